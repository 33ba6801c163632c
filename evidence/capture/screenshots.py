"""Screenshots of a capture: the first screen with a banner (URL, UTC time) above it, and the
full page, taken in tiles streamed into one PNG when it is tall."""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import textwrap
import zlib
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Page

from evidence.behaviors.page import future_wait

# Full-page screenshots of pages taller than this are taken in tiles of this height and
# stitched into one PNG streamed to disk: a 30,000 px page in one piece costs Chromium a bitmap
# of the whole page (about +500 MiB of the worker's memory); in tiles, about +80 MiB.
# 2,000 px: Chromium's bitmap per tile and the decoded tile here stay small (the worker's peak
# fell by 50 to 80 MiB against 4,000 px tiles on the 30,000 px page, at the same speed).
SCREENSHOT_TILE_PX = 2000

BANNER_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)


def _banner_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in BANNER_FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def screenshot_banner_add(*, png: bytes, lines: list[str], out_path: Path) -> None:
    """Burn the URL and UTC time into a band *above* the screenshot: no page pixel is covered."""
    with Image.open(io.BytesIO(png)) as shot:
        font = _banner_font(16)
        width = shot.width
        chars = max(20, int(width / 10))
        wrapped: list[str] = []
        for line in lines:
            wrapped.extend(textwrap.wrap(line, chars, break_long_words=True) or [""])
        line_height = 22
        band = 12 + line_height * len(wrapped)
        canvas = Image.new("RGB", (width, shot.height + band), (255, 255, 255))
        canvas.paste(shot.convert("RGB"), (0, band))
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([(0, 0), (width, band - 1)], fill=(20, 33, 61))
        for index, line in enumerate(wrapped):
            draw.text((10, 6 + index * line_height), line, fill=(255, 255, 255), font=font)
        canvas.save(out_path, format="PNG")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


_BAND_ROWS = 256  # rows converted and compressed at a time: a few MiB, not a whole tile


def _png_tile_write(*, png: bytes, size: tuple[int, int], out: Any, z: Any) -> None:
    """Append one tile's rows (filter byte 0, RGB) to the PNG being streamed to ``out``.

    The tile is decoded once; its rows are converted and compressed a band at a time, so no
    RGB copy of the whole tile (8 MiB for 1366 × 2000) is held beside the decoded one.
    """
    with Image.open(io.BytesIO(png)) as tile:
        if tile.size != size:
            raise RuntimeError(
                f"tuile de capture d'écran inattendue : {tile.size} au lieu de {size}"
            )
        tile.load()
        width, height = size
        for top in range(0, height, _BAND_ROWS):
            band = tile.crop((0, top, width, min(height, top + _BAND_ROWS))).convert("RGB")
            # Each row behind its filter byte (0), by Pillow rather than a loop here: the band's
            # bytes as a grey image one column wider, whose first column stays 0.
            rows = Image.new("L", (width * 3 + 1, band.height), 0)
            rows.paste(Image.frombytes("L", (width * 3, band.height), band.tobytes()), (1, 0))
            compressed = z.compress(rows.tobytes())
            if compressed:
                out.write(_png_chunk(b"IDAT", compressed))


def screenshot_full_write(*, page: Page, out_path: Path, tile_px: int = SCREENSHOT_TILE_PX) -> dict:
    """Write a full-page screenshot of ``page`` to ``out_path``; its size and tiling.

    A page up to ``tile_px`` high is taken in one piece (Playwright's ``full_page``). A taller
    one is taken in tiles of ``tile_px`` (the same full-page rendering, clipped), whose rows are
    streamed into one PNG (8-bit RGB, no filter): the same pixels, without a whole-page bitmap
    in Chromium or in Python.
    """
    width, height = page.evaluate(
        "() => { const d = document.documentElement, b = document.body || d;"
        " return [Math.max(d.scrollWidth, b.scrollWidth, d.clientWidth),"
        " Math.max(d.scrollHeight, b.scrollHeight, d.clientHeight)]; }"
    )
    if height <= tile_px:
        out_path.write_bytes(page.screenshot(full_page=True, timeout=60_000))
        with Image.open(out_path) as image:
            return {"width": image.width, "height": image.height, "tiles": 1}
    # Chromium renders tile n + 1 while another thread decodes and compresses tile n (Pillow
    # and zlib release the GIL); one encoder thread keeps the rows in order.
    compressor = zlib.compressobj(1)
    tiles = 0
    encoder = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="screenshot-png")
    with out_path.open("wb") as out, contextlib.ExitStack() as stack:
        stack.callback(encoder.shutdown)
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                             + bytes([8, 2, 0, 0, 0])))  # fmt: skip
        pending: concurrent.futures.Future | None = None
        for top in range(0, height, tile_px):
            tile_height = min(tile_px, height - top)
            png = page.screenshot(
                full_page=True,
                clip={"x": 0, "y": top, "width": width, "height": tile_height},
                timeout=60_000,
            )
            if pending is not None:
                future_wait(page, pending)
            pending = encoder.submit(
                _png_tile_write, png=png, size=(width, tile_height), out=out, z=compressor
            )
            tiles += 1
        if pending is not None:
            future_wait(page, pending)
        out.write(_png_chunk(b"IDAT", compressor.flush()))
        out.write(_png_chunk(b"IEND", b""))
    return {"width": width, "height": height, "tiles": tiles}
