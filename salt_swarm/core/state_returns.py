"""The return of a Salt state (``name``, ``result``, ``comment``, ``changes``), for the
state module and the orchestrate's master-side steps alike."""


def new(name) -> dict:
    return {"name": name, "result": True, "comment": "", "changes": {}}


def fail(ret: dict, message: str) -> dict:
    ret["result"] = False
    ret["comment"] = message
    return ret
