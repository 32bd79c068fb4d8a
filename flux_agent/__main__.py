import sys

if sys.argv[1:] == ["mcp"]:  # the plugin's start: the server's own light imports, not every command's
    from .entry.mcp_server import main as serve

    serve()
    sys.exit(0)

from .entry.client import main  # `validate` to a running `flux daemon`, else every command here

sys.exit(main())
