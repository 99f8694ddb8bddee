"""GPUs (sample schema 2 ``gpus``): NVIDIA through NVML, AMD through the amdgpu driver's sysfs files.

- **NVIDIA**: NVML, the library the driver installs (``libnvidia-ml.so.1``,
  ``nvml.dll``), through nvidia-ml-py's ``pynvml``. The library is loaded with
  ctypes first, and ``pynvml`` is imported only when that works, so a machine
  without the driver pays nothing. A query the board does not support (power on
  many laptops' GPUs, temperature on some datacenter boards) is ``null`` and is
  not asked again.
- **AMD**: ``/sys/class/drm/cardN/device/`` of the amdgpu driver:
  ``gpu_busy_percent``, ``mem_info_vram_used``/``_total`` and the card's hwmon
  (``temp1_input`` in m°C, the edge sensor; ``power1_average`` or
  ``power1_input`` in µW). No library, no subprocess.
- **Intel and Apple: not read.** i915/xe expose no utilisation in sysfs (only
  the perf PMU that ``intel_gpu_top`` needs root or ``perf_event_paranoid`` for),
  and Apple's figures come from ``powermetrics`` (root) or ``ioreg``
  (a subprocess, ~10 ms, on every read). Neither is cheap enough for a 1 s agent.

A machine with no GPU gets no ``gpus`` field; nothing is logged for it.
"""

from __future__ import annotations

import ctypes
import logging
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

log = logging.getLogger(__name__)

AMD_VENDOR_ID = "0x1002"
_CARD = re.compile(r"^card\d+$")


def load_nvml() -> ModuleType | None:
    """``pynvml`` with NVML initialised, or ``None`` where the driver's library does not load."""
    names = ("nvml.dll",) if sys.platform.startswith("win") else ("libnvidia-ml.so.1", "libnvidia-ml.so")
    for name in names:
        try:
            ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return None
    try:
        import pynvml
    except ImportError:
        log.info("NVIDIA driver found but nvidia-ml-py is not installed: no NVIDIA figures")
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        log.info("NVML did not initialise (%s): no NVIDIA figures", exc)
        return None
    return pynvml


class NvidiaGpus:
    """Every NVML device; ``nvml`` is ``pynvml`` after ``nvmlInit()`` (or a recorded stand-in in tests)."""

    vendor = "nvidia"

    def __init__(self, nvml: ModuleType) -> None:
        self._nvml = nvml
        self._unsupported: set[tuple[int, str]] = set()
        count = nvml.nvmlDeviceGetCount()
        self._devices = []
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = nvml.nvmlDeviceGetName(handle)
            self._devices.append((index, handle, name.decode() if isinstance(name, bytes) else str(name)))

    def __len__(self) -> int:
        return len(self._devices)

    def _query(self, index: int, what: str, call: Callable[[], Any]) -> Any:
        if (index, what) in self._unsupported:
            return None
        try:
            return call()
        except self._nvml.NVMLError as exc:
            if isinstance(exc, getattr(self._nvml, "NVMLError_NotSupported", ())):
                self._unsupported.add((index, what))
            return None

    def read(self) -> list[dict[str, Any]]:
        nvml = self._nvml
        out = []
        for index, handle, name in self._devices:
            util = self._query(index, "util", lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
            memory = self._query(index, "memory", lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
            temp = self._query(index, "temp", lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
            milliwatts = self._query(index, "power", lambda: nvml.nvmlDeviceGetPowerUsage(handle))
            out.append({
                "index": index, "name": name, "vendor": self.vendor,
                "util_percent": None if util is None else float(util.gpu),
                "mem_used": None if memory is None else int(memory.used),
                "mem_total": None if memory is None else int(memory.total),
                "temp_c": None if temp is None else float(temp),
                "power_w": None if milliwatts is None else round(milliwatts / 1000.0, 1),
            })
        return out


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


class AmdSysfsGpus:
    """amdgpu cards under ``drm_root`` (``/sys/class/drm``; a recorded tree in tests)."""

    vendor = "amd"

    def __init__(self, drm_root: Path = Path("/sys/class/drm")) -> None:
        self._cards: list[tuple[int, Path, Path | None, str]] = []
        try:
            entries = sorted((p for p in drm_root.iterdir() if _CARD.match(p.name)), key=lambda p: int(p.name[4:]))
        except OSError:
            return
        for card in entries:
            device = card / "device"
            try:
                vendor = (device / "vendor").read_text().strip()
            except OSError:
                continue
            if vendor != AMD_VENDOR_ID or not (device / "gpu_busy_percent").exists():
                continue
            hwmons = sorted((device / "hwmon").glob("hwmon*"))
            self._cards.append((int(card.name[4:]), device, hwmons[0] if hwmons else None, _amd_name(device)))

    def __len__(self) -> int:
        return len(self._cards)

    def read(self) -> list[dict[str, Any]]:
        out = []
        for index, device, hwmon, name in self._cards:
            busy = _read_int(device / "gpu_busy_percent")
            temp = power = None
            if hwmon is not None:
                millidegrees = _read_int(hwmon / "temp1_input")
                temp = None if millidegrees is None else round(millidegrees / 1000.0, 1)
                microwatts = _read_int(hwmon / "power1_average")
                if microwatts is None:
                    microwatts = _read_int(hwmon / "power1_input")
                power = None if microwatts is None else round(microwatts / 1e6, 1)
            out.append({
                "index": index, "name": name, "vendor": self.vendor,
                "util_percent": None if busy is None else float(busy),
                "mem_used": _read_int(device / "mem_info_vram_used"),
                "mem_total": _read_int(device / "mem_info_vram_total"),
                "temp_c": temp, "power_w": power,
            })
        return out


def _amd_name(device: Path) -> str:
    for candidate in ("product_name",):
        try:
            text = (device / candidate).read_text().strip()
        except OSError:
            continue
        if text:
            return text
    try:
        return f"AMD GPU {(device / 'device').read_text().strip()}"
    except OSError:
        return "AMD GPU"


class Gpus:
    """The ``gpus`` probe over every backend that found a device at construction."""

    name = "gpus"
    path = ("gpus",)
    interval_s = 0.0

    def __init__(self, backends: list[Any]) -> None:
        self._backends = [b for b in backends if len(b)]

    def __bool__(self) -> bool:
        return bool(self._backends)

    def read(self, now: float) -> list[dict[str, Any]] | None:
        out = [gpu for backend in self._backends for gpu in backend.read()]
        return out or None


def detect_gpus(nvml: ModuleType | None | Callable[[], ModuleType | None] = load_nvml,
                drm_root: Path = Path("/sys/class/drm")) -> Gpus:
    """Backends of this machine: NVML when its library loads, amdgpu cards in sysfs."""
    backends: list[Any] = []
    module = nvml() if callable(nvml) else nvml
    if module is not None:
        try:
            backends.append(NvidiaGpus(module))
        except module.NVMLError as exc:
            log.info("NVML lists no device (%s)", exc)
    backends.append(AmdSysfsGpus(drm_root))
    return Gpus(backends)
