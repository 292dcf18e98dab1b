#!/usr/bin/env bash
# What the viewer's tests need to render without a GPU or a display, from Debian's packages:
# Mesa's lavapipe (a Vulkan driver on the CPU) and Xvfb (a virtual X display) for the desktop
# viewer, Xorg's dummy driver and xrandr for two monitors (the kiosk's test), xwininfo (x11-utils)
# to see where a window went, Chromium for the web viewer (WebGL2 on its own SwiftShader).
# Safe to run again: it does nothing when they are there.
set -euo pipefail
if [ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] && command -v xvfb-run >/dev/null \
    && command -v xauth >/dev/null && command -v xwininfo >/dev/null && command -v xrandr >/dev/null \
    && [ -e /usr/lib/xorg/modules/drivers/dummy_drv.so ] && command -v chromium >/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    mesa-vulkan-drivers libvulkan1 xvfb xauth x11-utils x11-xserver-utils \
    xserver-xorg-core xserver-xorg-video-dummy chromium >/dev/null
