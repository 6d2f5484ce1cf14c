"""moto extension: ECR scan-on-push.

AWS starts a basic scan of every image pushed to a repository whose scanning configuration has
``scanOnPush: true``; moto only scans on ``StartImageScan``. Here ``PutImage`` (which the bench's
registry bridge calls for each pushed manifest) marks new images as scanned when the repository
asks for it, so ``DescribeImageScanFindings`` answers as it would after a real push. The findings
themselves stay moto's (canned, or set through ``/moto-api/static/ecr/scan-finding-results``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def install() -> None:
    from moto.ecr.models import ECRBackend

    original = ECRBackend.put_image

    def put_image(self: Any, repository_name: str, *args: Any, **kwargs: Any) -> Any:
        image = original(self, repository_name, *args, **kwargs)
        repository = self.repositories.get(repository_name)
        config = getattr(repository, "image_scanning_configuration", None) or {}
        if config.get("scanOnPush") and image.last_scan is None:
            image.last_scan = datetime.today()
        return image

    ECRBackend.put_image = put_image  # type: ignore[method-assign]
