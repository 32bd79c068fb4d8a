"""Errors users see. Each carries one line of text; the CLI maps them to exit codes."""


class FluxError(Exception):
    exit_code = 1


class FluxInputError(FluxError):
    """Bad input: unknown table or column, bad type, unparseable request (exit 2)."""

    exit_code = 2

    def __str__(self) -> str:  # always one line
        return " ".join(str(self.args[0] if self.args else "bad input").split())


class FluxRefused(FluxError):
    """The plan has error-level findings; nothing was written (exit 1)."""

    exit_code = 1
