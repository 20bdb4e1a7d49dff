"""A tiny image built from the host's static busybox and imported into lab dockerds.

The lab never pulls: services in tests run this image, imported on each host.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

IMAGE = "ssw-busybox:lab"
# The same files with a command of its own (sleeps until stopped): for calls that give
# no command, as the old salt.modules.swarm examples do.
IMAGE_WITH_CMD = "ssw-busybox:cmd"
_CHANGES = {
    IMAGE: None,
    IMAGE_WITH_CMD: ['CMD ["sh", "-c", "trap \'exit 0\' TERM; while true; do sleep 1; done"]'],
}
APPLETS = ("sh", "sleep", "true")


def busybox_path() -> Path:
    found = shutil.which("busybox") or "/bin/busybox"
    if not Path(found).exists():
        raise RuntimeError("busybox not found: install busybox-static (scripts/setup-host does)")
    return Path(found)


def rootfs_tar() -> bytes:
    data = busybox_path().read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("bin")
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        info = tarfile.TarInfo("bin/busybox")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
    return buf.getvalue()


def ensure_image(lab, names: list[str], image: str = IMAGE) -> None:
    """Import ``image`` (IMAGE or IMAGE_WITH_CMD) on each host that lacks it."""
    tar = None
    for name in names:
        client = lab.docker_client(name)
        try:
            if client.api.images(name=image):
                continue
            tar = tar or rootfs_tar()
            repo, tag = image.split(":")
            client.api.import_image_from_data(
                tar, repository=repo, tag=tag, changes=_CHANGES[image]
            )
        finally:
            client.close()
