"""NVML error codes and what llmcheck says about each: stable issue codes, plain words, hints.

Kept apart from ``nvidia.py`` (the only importer of pynvml) so the table can be read and tested
without the binding; the codes are nvmlReturn_t values from nvml.h.
"""

from __future__ import annotations

# NVML's C return codes (nvml.h; stable ABI). Named here so the probe does not need the binding's
# constants, which old bindings and fakes may lack.
_NVML_ERROR_UNINITIALIZED = 1
_NVML_ERROR_INVALID_ARGUMENT = 2
_NVML_ERROR_NOT_SUPPORTED = 3
_NVML_ERROR_NO_PERMISSION = 4
_NVML_ERROR_NOT_FOUND = 6
_NVML_ERROR_FUNCTION_NOT_FOUND = 13
_NVML_ERROR_GPU_IS_LOST = 15
_NVML_ERROR_RESET_REQUIRED = 16
_NVML_CLOCK_MEM = 2  # nvmlClockType_t NVML_CLOCK_MEM
_NVML_DEVICE_MIG_ENABLE = 1

# Not an NVML code: our own keys for failures that are not NVMLErrors.
_BAD_STRING = -1  # strict UTF-8 decode in the binding (gpuopenanalytics/pynvml#53, seen in WSL2)
_BINDING_OUTDATED = -2  # the call is missing from an old or shadowing pynvml
_BAD_VALUE = -3  # the driver answered with an impossible number

_UPDATE_DRIVER = "Update the NVIDIA driver (and nvidia-ml-py) and try again."

# NVML error code -> (stable issue code, plain description, hint).
_ERRORS: dict[int, tuple[str, str, str]] = {
    _NVML_ERROR_UNINITIALIZED: (
        "nvml_uninitialized",
        "NVML was not initialised.",
        "The NVIDIA driver failed to start NVML; run `nvidia-smi` to see whether it works.",
    ),
    _NVML_ERROR_INVALID_ARGUMENT: (
        "nvml_invalid_argument",
        "the NVIDIA driver rejected a query (driver and nvidia-ml-py disagree).",
        _UPDATE_DRIVER,
    ),
    _NVML_ERROR_NOT_SUPPORTED: (
        "nvml_not_supported",
        "this GPU or driver does not support the query.",
        "Nothing to do: the value is unknown.",
    ),
    _NVML_ERROR_NO_PERMISSION: (
        "nvml_no_permission",
        "the NVIDIA driver denied permission.",
        "Run as a user allowed to open /dev/nvidia* (often the `video` group); in a container, "
        "pass the GPU devices in (e.g. `--gpus all`).",
    ),
    5: (
        "nvml_already_initialized",
        "NVML was already initialised.",
        "Nothing to do; please report it if values look wrong.",
    ),
    _NVML_ERROR_NOT_FOUND: (
        "nvml_not_found",
        "the NVIDIA device was not found.",
        "The GPU may have been removed or hidden; run `nvidia-smi -L`.",
    ),
    7: (
        "nvml_insufficient_size",
        "the NVIDIA driver needed a larger buffer (driver and nvidia-ml-py disagree).",
        _UPDATE_DRIVER,
    ),
    8: (
        "nvml_insufficient_power",
        "the GPU reports insufficient external power.",
        "Check the GPU's power connectors and power supply.",
    ),
    9: (
        "nvml_driver_not_loaded",
        "the NVIDIA driver is installed but not loaded.",
        "Load it (`sudo modprobe nvidia`) or reboot; check that /dev/nvidia* exists and that "
        "Secure Boot allows the kernel module.",
    ),
    10: (
        "nvml_timeout",
        "the NVIDIA driver timed out.",
        "Enable persistence mode (`sudo nvidia-smi -pm 1`) and try again; check `dmesg`.",
    ),
    11: (
        "nvml_irq_issue",
        "the NVIDIA driver could not set up the GPU's interrupts.",
        "Check `dmesg` for NVRM errors; a reboot may help.",
    ),
    12: (
        "nvml_library_not_found",
        "no NVIDIA driver library (libnvidia-ml) was found, so no NVIDIA GPU is visible.",
        "Nothing to do if this machine has no NVIDIA GPU. Otherwise install the NVIDIA driver; "
        "in a container, start it with `--gpus all` (NVIDIA Container Toolkit); in WSL2, "
        "install the NVIDIA driver on Windows.",
    ),
    _NVML_ERROR_FUNCTION_NOT_FOUND: (
        "nvml_function_not_found",
        "the installed NVIDIA driver is too old for this query.",
        "Update the NVIDIA driver for the full details.",
    ),
    14: (
        "nvml_corrupted_inforom",
        "the GPU's infoROM is corrupted.",
        "The GPU may still work; ask the vendor about reflashing its infoROM.",
    ),
    _NVML_ERROR_GPU_IS_LOST: (
        "nvml_gpu_lost",
        "the GPU has fallen off the bus (GPU is lost) and cannot be used.",
        "Check `dmesg` for Xid errors; a reboot usually brings it back. Other GPUs are unaffected.",
    ),
    _NVML_ERROR_RESET_REQUIRED: (
        "nvml_gpu_reset_required",
        "the GPU needs a reset before it can be used.",
        "Reset it (`sudo nvidia-smi -r -i N` with nothing running on it) or reboot.",
    ),
    17: (
        "nvml_operating_system_blocked",
        "the operating system blocked the request to the NVIDIA driver.",
        "Check permissions and security policy (SELinux/AppArmor, container seccomp).",
    ),
    18: (
        "nvml_driver_version_mismatch",
        "the NVIDIA library and the loaded kernel driver are different versions.",
        "Reboot after a driver update, so that the new kernel module is loaded.",
    ),
    19: (
        "nvml_in_use",
        "the GPU is busy with another operation.",
        "Try again when the other operation (reset, MIG change) has finished.",
    ),
    20: (
        "nvml_out_of_memory",
        "the NVIDIA driver ran out of memory.",
        "Free some RAM and try again.",
    ),
    21: ("nvml_no_data", "the NVIDIA driver had no data for the query.", "Try again later."),
    22: (
        "nvml_vgpu_ecc_not_supported",
        "ECC is not supported on this vGPU.",
        "Nothing to do: the value is unknown.",
    ),
    23: (
        "nvml_insufficient_resources",
        "the NVIDIA driver lacks the resources for the query.",
        "Try again with fewer GPU tools running.",
    ),
    24: (
        "nvml_freq_not_supported",
        "the requested clock frequency is not supported.",
        "Nothing to do: the value is unknown.",
    ),
    25: (
        "nvml_argument_version_mismatch",
        "the NVIDIA driver does not know this version of the query.",
        _UPDATE_DRIVER,
    ),
    26: (
        "nvml_deprecated",
        "the NVIDIA driver no longer supports this query.",
        "Update nvidia-ml-py.",
    ),
    27: ("nvml_not_ready", "the GPU is not ready yet.", "Try again in a moment."),
    28: (
        "nvml_gpu_not_found",
        "the NVIDIA driver could not find the GPU.",
        "Check `nvidia-smi -L` and `dmesg`; the GPU may have been removed or hidden.",
    ),
    29: (
        "nvml_invalid_state",
        "the GPU is in a state that does not allow the query.",
        "Try again later, or reset the GPU.",
    ),
    30: (
        "nvml_reset_type_not_supported",
        "the GPU does not support this kind of reset.",
        "Nothing to do.",
    ),
    999: (
        "nvml_unknown_error",
        "NVML failed with an unknown error.",
        "Run `nvidia-smi` to check the driver; updating the NVIDIA driver often helps.",
    ),
    _BAD_STRING: (
        "nvml_bad_string",
        "the NVIDIA driver returned text that is not valid UTF-8.",
        "Update nvidia-ml-py and the NVIDIA driver.",
    ),
    _BINDING_OUTDATED: (
        "nvml_binding_outdated",
        "the installed nvidia-ml-py lacks this query.",
        "Upgrade it: `pip install -U nvidia-ml-py` (and remove the old `pynvml` package).",
    ),
    _BAD_VALUE: (
        "nvml_implausible_value",
        "the NVIDIA driver returned an impossible value.",
        _UPDATE_DRIVER,
    ),
}

# Errors after which nothing more should be asked of that GPU.
_LOST = frozenset({_NVML_ERROR_GPU_IS_LOST, _NVML_ERROR_RESET_REQUIRED})
# Per-field answers that only mean "unknown here", not a problem worth a record (gpustat's
# `safenvml` does the same for NotSupported).
_QUIET = frozenset({_NVML_ERROR_NOT_SUPPORTED, _NVML_ERROR_FUNCTION_NOT_FOUND})
_LOUD: frozenset[int] = frozenset()
_MEMORY_QUIET = frozenset({_NVML_ERROR_NOT_SUPPORTED})


def _describe(error: int) -> tuple[str, str, str]:
    """The issue code, description and hint for an NVML error code (or one of ours)."""
    known = _ERRORS.get(error)
    if known is not None:
        return known
    return (
        "nvml_error",
        f"NVML failed with error code {error}.",
        "Run `nvidia-smi` to check the driver; updating the NVIDIA driver often helps.",
    )
