"""Shared by the Python reference benchmarks: Pillow's way of doing what pixfly's decoder does."""
from PIL import Image, ImageOps

# pixfly composites transparent pixels onto this neutral grey.
MATTE = (128, 128, 128)


def upright_rgb(im):
    """EXIF orientation applied, alpha composited on MATTE, 8-bit RGB."""
    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA", "P", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        flat = Image.new("RGB", im.size, MATTE)
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    return im.convert("RGB")
