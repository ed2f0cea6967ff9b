"""Draw the addon's Apps icon (static/description/icon.png): a parcel and a curved arrow into Odoo.

Run once after changing the design: `python tools/make_icon.py` (needs Pillow, in Odoo's requirements).
"""
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4  # drawn large, then reduced: smooth edges without antialiasing primitives
NAVY, ORANGE, WHITE, TAPE = (35, 47, 62), (255, 153, 0), (255, 255, 255), (214, 222, 232)
OUT = Path(__file__).resolve().parent.parent / "bind_amazon_connector" / "static" / "description" / "icon.png"


def main():
    s = SIZE * SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, s - 1, s - 1], radius=int(s * 0.18), fill=NAVY)

    def p(x, y):
        return (int(x * s), int(y * s))

    # the parcel: front and top faces
    d.polygon([p(0.27, 0.36), p(0.50, 0.26), p(0.73, 0.36), p(0.50, 0.46)], fill=TAPE)
    d.polygon([p(0.27, 0.36), p(0.50, 0.46), p(0.50, 0.72), p(0.27, 0.62)], fill=WHITE)
    d.polygon([p(0.50, 0.46), p(0.73, 0.36), p(0.73, 0.62), p(0.50, 0.72)], fill=(236, 240, 245))
    # the tape across the top
    d.polygon([p(0.37, 0.315), p(0.42, 0.295), p(0.65, 0.395), p(0.60, 0.415)], fill=ORANGE)
    # the curved arrow under the parcel, pointing right (into Odoo)
    width = int(s * 0.045)
    d.arc([p(0.18, 0.52), p(0.80, 0.84)], start=25, end=155, fill=ORANGE, width=width)
    tip = (0.785, 0.735)
    d.polygon([p(tip[0] + 0.04, tip[1] - 0.075), p(tip[0] + 0.05, tip[1] + 0.03), p(tip[0] - 0.05, tip[1] - 0.005)],
              fill=ORANGE)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    img.resize((SIZE, SIZE), Image.LANCZOS).save(OUT, optimize=True)
    print(OUT)


if __name__ == "__main__":
    main()
