"""`S3`: Metaflow's S3 client, with the API flows use, built on boto3 (the `s3` extra).

Keys are relative to the client's root (`S3(s3root=...)`, or `S3(run=self)`: the configured
`DATATOOLS_S3ROOT`/FLOW/RUN_ID), or full `s3://` URLs when it has none. Downloads go to a
temporary directory under `tmproot` that is removed when the client closes (use it as a
context manager). The endpoint and certificate check come from `METAFLOW_S3_ENDPOINT_URL` and
`METAFLOW_S3_VERIFY_CERTIFICATE` as in Metaflow; credentials from boto3's usual places.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from flowtui.client.errors import MetaflowException
from flowtui.compat import metaflow_config
from flowtui.flow import FlowSpec, current

PutValue = str | bytes | io.IOBase


class MetaflowS3Exception(MetaflowException):
    """An S3 operation failed; the message says which and why (a MetaflowException, as in
    Metaflow: `except MetaflowException` catches it)."""


class MetaflowS3URLException(MetaflowS3Exception):
    """A key or root is not a usable S3 location."""


class MetaflowS3NotFound(MetaflowS3Exception):
    """The object asked for does not exist."""


class MetaflowS3AccessDenied(MetaflowS3Exception):
    """S3 refused access to the object."""


class MetaflowS3InvalidObject(MetaflowS3Exception):
    """A value given to `put` is neither text, bytes nor a readable, seekable file."""


class S3Object:
    """A path or an object in S3, with its local copy when it was downloaded."""

    def __init__(
        self,
        prefix: str | None,
        url: str,
        path: str | None,
        size: int | None = None,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        last_modified: int | None = None,
    ) -> None:
        self._url, self._path = url, path
        self._size = os.stat(path).st_size if path else size
        self._content_type = content_type
        self._metadata = None
        if metadata and "metaflow-user-attributes" in metadata:
            self._metadata = json.loads(metadata["metaflow-user-attributes"])
        self._last_modified = last_modified
        if prefix is None or prefix == url:
            self._key, self._prefix = url, None
        else:
            self._key, self._prefix = url[len(prefix.rstrip("/")) + 1 :].rstrip("/"), prefix

    @property
    def exists(self) -> bool:
        """True for an object (a file) in S3; False for a prefix or a missing key."""
        return self._size is not None

    @property
    def downloaded(self) -> bool:
        return bool(self._path)

    @property
    def url(self) -> str:
        return self._url

    @property
    def prefix(self) -> str | None:
        return self._prefix

    @property
    def key(self) -> str:
        """The key as asked for: relative to the client's root, or the full URL."""
        return self._key

    @property
    def path(self) -> str | None:
        """The downloaded copy (removed when the client closes), or None."""
        return self._path

    @property
    def blob(self) -> bytes | None:
        if not self._path:
            return None
        with open(self._path, "rb") as f:
            return f.read()

    @property
    def text(self) -> str | None:
        blob = self.blob
        return None if blob is None else blob.decode("utf-8", errors="replace")

    @property
    def size(self) -> int | None:
        return self._size

    @property
    def has_info(self) -> bool:
        return self._content_type is not None or self._metadata is not None

    @property
    def metadata(self) -> dict[str, str] | None:
        return self._metadata

    @property
    def content_type(self) -> str | None:
        return self._content_type

    @property
    def last_modified(self) -> int | None:
        return self._last_modified

    def __repr__(self) -> str:
        if not self.exists:
            return f"<S3Object {self._url} (not found or a prefix)>"
        where = ", local" if self._path else ""
        return f"<S3Object {self._url} ({self._size} bytes{where})>"


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ImportError(
            "metaflow.S3 needs boto3 here; install it with: pip install 'flowtui[s3]'."
        ) from None
    return boto3


class S3:
    """Read and write objects under one S3 root (see the module's doc)."""

    def __init__(
        self,
        tmproot: str = ".",
        bucket: str | None = None,
        prefix: str | None = None,
        run: Any = None,
        s3root: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._root = self._root_of(bucket, prefix, run, s3root)
        boto3 = _boto3()
        params = {**metaflow_config.setting("DATATOOLS_CLIENT_PARAMS")}
        endpoint = metaflow_config.setting("S3_ENDPOINT_URL")
        if endpoint:
            params.setdefault("endpoint_url", endpoint)
        verify = metaflow_config.setting("S3_VERIFY_CERTIFICATE")
        if verify is not None:
            params.setdefault("verify", str(verify).lower() not in ("0", "false", ""))
        params.update(kwargs.get("client_params") or {})
        self._client = kwargs.get("external_client") or boto3.client("s3", **params)
        self._tmpdir: str | None = tempfile.mkdtemp(dir=tmproot, prefix="metaflow.s3.")

    @staticmethod
    def _root_of(
        bucket: str | None, prefix: str | None, run: Any, s3root: str | None
    ) -> str | None:
        if run is not None:
            base = metaflow_config.DATATOOLS_S3ROOT
            if base is None:
                raise MetaflowS3URLException(
                    "S3(run=...) needs DATATOOLS_S3ROOT; set METAFLOW_DATATOOLS_S3ROOT "
                    "(or METAFLOW_DATASTORE_SYSROOT_S3) to an s3:// URL."
                )
            parsed = urlparse(base)
            bucket = bucket or parsed.netloc
            prefix = prefix or parsed.path
            if isinstance(run, FlowSpec):
                if not current.is_running_flow:
                    raise MetaflowS3URLException(
                        "S3(run=self) works inside a running step only; outside one, "
                        "pass s3root= or a client Run."
                    )
                prefix = os.path.join(prefix, current.flow_name, current.run_id)
            else:
                flow_name, run_id = str(run.pathspec).split("/")[:2]
                prefix = os.path.join(prefix, flow_name, run_id)
            return "s3://" + os.path.join(bucket, prefix.strip("/"))
        if s3root:
            if urlparse(s3root).scheme != "s3":
                raise MetaflowS3URLException(f"s3root must be an s3:// URL, not {s3root!r}.")
            return s3root.rstrip("/")
        return None

    def __enter__(self) -> S3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove every file this client downloaded."""
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- locations ------------------------------------------------------------------------
    def _url(self, key: str | None) -> str:
        key = getattr(key, "key", key)
        if self._root is None:
            if key and urlparse(key).scheme == "s3" and urlparse(key).path:
                return key
            if current.is_running_flow:
                raise MetaflowS3URLException(
                    "Use S3(run=self) inside a running flow, or give full s3:// URLs."
                )
            raise MetaflowS3URLException("Give S3 an s3root= or run=, or use full s3:// URLs.")
        if key:
            if key.startswith("s3://"):
                raise MetaflowS3URLException(
                    f"{key} is a full URL, but this S3 client has a root ({self._root}); "
                    "give keys relative to it."
                )
            return os.path.join(self._root, key.lstrip("/"))
        return self._root

    @staticmethod
    def _split(url: str) -> tuple[str, str]:
        parsed = urlparse(url, allow_fragments=False)
        return parsed.netloc, parsed.path.lstrip("/")

    def _call(self, url: str, op: Any) -> Any:
        """Run one boto3 call on `url`, its errors as Metaflow's S3 exceptions."""
        botocore = __import__("botocore.exceptions").exceptions
        try:
            return op()
        except botocore.ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
                raise MetaflowS3NotFound(f"{url} does not exist.") from None
            if code in ("403", "AccessDenied"):
                raise MetaflowS3AccessDenied(f"access to {url} was denied.") from None
            raise MetaflowS3Exception(f"S3 failed on {url}: {e}") from None
        except botocore.NoCredentialsError:
            raise MetaflowS3Exception(
                f"S3 operation failed on {url}: no AWS credentials were found; set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) where the step runs."
            ) from None
        except botocore.EndpointConnectionError as e:
            raise MetaflowS3Exception(
                f"S3 operation failed on {url}: {e}; check METAFLOW_S3_ENDPOINT_URL "
                f"({metaflow_config.setting('S3_ENDPOINT_URL') or 'not set: AWS S3 itself'})."
            ) from None
        except botocore.BotoCoreError as e:  # no connection, a bad configuration, ...
            raise MetaflowS3Exception(f"S3 operation failed on {url}: {e}") from None

    # -- reading --------------------------------------------------------------------------
    def get(
        self, key: str | None = None, return_missing: bool = False, return_info: bool = True
    ) -> S3Object:
        """Download one object. A missing one raises MetaflowS3NotFound, or with
        `return_missing=True` comes back with `.exists == False`."""
        url = self._url(key)
        return self._download(self._root, url, return_missing, return_info)

    def _download(
        self, prefix: str | None, url: str, return_missing: bool, return_info: bool
    ) -> S3Object:
        bucket, name = self._split(url)
        assert self._tmpdir is not None, "this S3 client is closed"
        fd, local = tempfile.mkstemp(dir=self._tmpdir)
        try:
            with os.fdopen(fd, "wb") as out:
                resp = self._call(url, lambda: self._client.get_object(Bucket=bucket, Key=name))
                self._call(url, lambda: shutil.copyfileobj(resp["Body"], out))
        except MetaflowS3NotFound:
            os.unlink(local)
            if return_missing:
                return S3Object(prefix, url, None)
            raise
        if not return_info:
            return S3Object(prefix, url, local)
        return S3Object(
            prefix,
            url,
            local,
            content_type=resp.get("ContentType"),
            metadata=resp.get("Metadata", {}),
            last_modified=int(resp["LastModified"].timestamp()),
        )

    def get_many(
        self, keys: Iterable[str], return_missing: bool = False, return_info: bool = True
    ) -> list[S3Object]:
        return [self.get(k, return_missing, return_info) for k in keys]

    def get_recursive(
        self, keys: Iterable[str | None], return_info: bool = False
    ) -> list[S3Object]:
        """Download every object under each of the prefixes."""
        found = []
        for key in keys:
            base = self._url(key)
            for url, _ in self._listing(base, recursive=True):
                prefix = self._root if return_info else base
                found.append(self._download(prefix, url, False, return_info))
        return found

    def get_all(self, return_info: bool = False) -> list[S3Object]:
        """Download every object under the client's root."""
        if self._root is None:
            raise MetaflowS3URLException("get_all() needs an S3 client with s3root= or run=.")
        return self.get_recursive([None], return_info)

    def _listing(self, base: str, recursive: bool) -> list[tuple[str, int | None]]:
        """(url, size) under `base`; with `recursive=False`, sub-prefixes with size None."""
        bucket, name = self._split(base.rstrip("/") + "/")
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": name}
        if not recursive:
            args["Delimiter"] = "/"
        pages = self._client.get_paginator("list_objects_v2").paginate(**args)
        found: list[tuple[str, int | None]] = []
        for page in self._call(base, lambda: list(pages)):
            for obj in page.get("Contents", []):
                found.append((f"s3://{bucket}/{obj['Key']}", int(obj["Size"])))
            for sub in page.get("CommonPrefixes", []):
                found.append((f"s3://{bucket}/{sub['Prefix']}", None))
        return sorted(found)

    def list_paths(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """The next level under each key: objects (`.exists`) and prefixes (not `.exists`)."""
        out = []
        for key in keys if keys is not None else [None]:
            base = self._url(key).rstrip("/") + "/"
            out += [S3Object(base, url, None, size) for url, size in self._listing(base, False)]
        return out

    def list_recursive(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """Every object under each key, at any depth."""
        out = []
        for key in keys if keys is not None else [None]:
            base = self._url(key)
            out += [S3Object(base, url, None, size) for url, size in self._listing(base, True)]
        return out

    # -- writing --------------------------------------------------------------------------
    def put(
        self,
        key: str,
        obj: PutValue,
        overwrite: bool = True,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Store text (as UTF-8), bytes or a readable, seekable binary file; return the URL."""
        url = self._url(key)
        bucket, name = self._split(url)
        if isinstance(obj, str):
            body: Any = io.BytesIO(obj.encode("utf-8"))
        elif isinstance(obj, bytes | bytearray):
            body = io.BytesIO(bytes(obj))
        elif isinstance(obj, io.IOBase) and obj.readable() and obj.seekable():
            body = obj
        else:
            raise MetaflowS3InvalidObject(
                f"The value for {key!r} is a {type(obj).__name__}; S3.put takes text, bytes "
                "or a readable, seekable binary file."
            )
        if not overwrite and self._exists(url):
            return url
        extra: dict[str, Any] = {}
        if content_type:
            extra["ContentType"] = content_type
        if metadata:
            extra["Metadata"] = {"metaflow-user-attributes": json.dumps(metadata)}
        body.seek(0)
        self._call(
            url,
            lambda: self._client.upload_fileobj(body, bucket, name, ExtraArgs=extra or None),
        )
        return url

    def _exists(self, url: str) -> bool:
        bucket, name = self._split(url)
        try:
            self._call(url, lambda: self._client.head_object(Bucket=bucket, Key=name))
        except MetaflowS3NotFound:
            return False
        return True

    def put_many(self, key_objs: Iterable[Any], overwrite: bool = True) -> list[tuple[str, str]]:
        """Store each `(key, value)` pair (or object with `.key` and `.value`)."""
        out = []
        for item in key_objs:
            key, value = (item.key, item.value) if hasattr(item, "value") else item
            out.append((key, self.put(key, value, overwrite)))
        return out

    def put_files(self, key_paths: Iterable[Any], overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload each `(key, local path)` pair (or object with `.key` and `.path`)."""
        pairs = [(i.key, i.path) if hasattr(i, "path") else i for i in key_paths]
        for _, path in pairs:
            if not os.path.isfile(path):
                raise MetaflowS3NotFound(f"Local file not found: {path}")
        out = []
        for key, path in pairs:
            with open(path, "rb") as f:
                out.append((key, self.put(key, f, overwrite)))
        return out
