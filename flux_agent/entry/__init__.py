"""The ways in: the `flux` command, the MCP server and the Claude agent, over one set of actions."""
