"""The built-in receiver: a small hardened HTTP/1.1 server (``http_server.py``), the
local webhook receiver on it (``local.py``: ``atscale-mock receive`` and ``--to local``)
and the duplicate tracking both it and ``load`` use (``tracking.py``)."""
