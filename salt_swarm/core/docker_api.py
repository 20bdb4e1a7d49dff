"""The one place that reaches into the Docker SDK's low-level client: the few API calls
the SDK has no public method for with the options salt-swarm needs (a swarm init or
join whose body is built here, a service update at a given version). Nothing is
imported: it works on the client it is given."""

from __future__ import annotations


def post(client, path: str, body: dict, *path_args, params=None, answer: bool = False):
    """POST ``body`` (JSON) to the Docker API at ``path`` (``{0}`` placeholders filled
    from ``path_args``); raises the SDK's APIError on an error status. With ``answer``
    the decoded JSON answer is returned."""
    url = client.api._url(path, *path_args)
    kwargs = {"data": body} if params is None else {"data": body, "params": params}
    resp = client.api._post_json(url, **kwargs)
    if answer:
        return client.api._result(resp, json=True)
    client.api._raise_for_status(resp)
    return None
