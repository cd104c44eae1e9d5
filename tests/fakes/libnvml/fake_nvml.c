/*
 * A tiny fake libnvidia-ml.so.1 for llmcheck's end-to-end tests.
 *
 * It exports the NVML C symbols nvidia-ml-py's pynvml.py (13.x) resolves for the calls
 * llmcheck.probe.nvidia makes, with the struct layouts pynvml's ctypes classes declare
 * (c_nvmlMemory_t, c_nvmlMemory_v2_t, nvmlPciInfo_t, c_nvmlProcessInfo_v3_t). Written for
 * llmcheck; no NVIDIA code.
 *
 * Devices (FAKE_NVML_COUNT picks how many, default 2):
 *   0  NVIDIA H100 80GB HBM3   81559 MiB, 5120-bit, 2619 MHz, one process holding 1 GiB
 *   1  NVIDIA GeForce RTX 4090 24564 MiB, 384-bit, 10501 MHz
 *   2  NVIDIA GB10             memory info NOT_SUPPORTED (unified memory)
 *
 * Environment:
 *   FAKE_NVML_INIT_ERROR=N  nvmlInit* returns N (e.g. 9 = DRIVER_NOT_LOADED)
 *   FAKE_NVML_LOST=1,2      these devices answer GPU_IS_LOST to every query after the handle
 *   FAKE_NVML_COUNT=N       number of devices (0..3)
 *   FAKE_NVML_FAULT=F       a wedged or crashing driver: "hang_memory" / "segfault_memory" make
 *                           every memory-info query sleep forever / raise SIGSEGV; "hang_init"
 *                           makes nvmlInit* sleep forever
 *
 * Build with -DFAKE_NVML_NO_V2 to leave out the _v2 memory and CUDA-version symbols, as a
 * pre-R510 driver does: pynvml then raises NVMLError_FunctionNotFound on its own.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;

enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
};

#define NVML_MEMORY_V2 0x02000028u
#define NVML_CLOCK_MEM 2
#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)

typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

typedef struct fake_device {
    const char *name, *uuid, *bus_id;
    unsigned int bus, pci_device_id;
    int memory_supported;
    unsigned long long total, reserved, used;
    unsigned int bus_width, max_mem_clock;
    int cc_major, cc_minor;
    unsigned long long process_bytes; /* 0: no process */
} fake_device;

typedef fake_device *nvmlDevice_t;

static fake_device devices[] = {
    {"NVIDIA H100 80GB HBM3", "GPU-6f1c2f8e-3a7d-4c61-9b0e-1d2c3b4a5f60", "00000000:19:00.0",
     0x19, 0x233010DE, 1, 81559 * MIB, 532 * MIB, 1 * GIB, 5120, 2619, 9, 0, 1 * GIB},
    {"NVIDIA GeForce RTX 4090", "GPU-0b9e6c1a-77f2-4d0e-a8b3-5c4d3e2f1a09", "00000000:01:00.0",
     0x01, 0x268410DE, 1, 24564 * MIB, 328 * MIB, 900 * MIB, 384, 10501, 8, 9, 0},
    {"NVIDIA GB10", "GPU-5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "0000000F:01:00.0",
     0x01, 0x2E1210DE, 0, 0, 0, 0, 0, 0, 12, 1, 0},
};

static int initialized = 0;

/* FAKE_NVML_FAULT=<where>: hang forever or die of SIGSEGV, as a wedged driver does. */
static void maybe_fault(const char *hang, const char *segfault) {
    const char *fault = getenv("FAKE_NVML_FAULT");
    if (!fault) return;
    if (hang && strcmp(fault, hang) == 0) {
        for (;;) pause();
    }
    if (segfault && strcmp(fault, segfault) == 0) raise(SIGSEGV);
}

static unsigned int device_count(void) {
    const char *text = getenv("FAKE_NVML_COUNT");
    unsigned int count = text ? (unsigned int)atoi(text) : 2u;
    unsigned int most = sizeof(devices) / sizeof(devices[0]);
    return count > most ? most : count;
}

static int is_lost(const fake_device *dev) {
    const char *text = getenv("FAKE_NVML_LOST");
    char wanted[8];
    if (!text) return 0;
    /* Match ",N," inside ",<list>,". */
    size_t length = strlen(text);
    char *list = malloc(length + 3);
    if (!list) return 0;
    list[0] = ',';
    memcpy(list + 1, text, length);
    list[length + 1] = ',';
    list[length + 2] = '\0';
    snprintf(wanted, sizeof wanted, ",%d,", (int)(dev - devices));
    int found = strstr(list, wanted) != NULL;
    free(list);
    return found;
}

/* Every device query starts here: initialised, a valid handle, not lost. */
static nvmlReturn_t check(nvmlDevice_t dev) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (dev < devices || dev >= devices + device_count()) return NVML_ERROR_INVALID_ARGUMENT;
    if (is_lost(dev)) return NVML_ERROR_GPU_IS_LOST;
    return NVML_SUCCESS;
}

static void copy_text(char *out, unsigned int size, const char *text) {
    if (size == 0) return;
    strncpy(out, text, size - 1);
    out[size - 1] = '\0';
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    maybe_fault("hang_init", NULL);
    const char *error = getenv("FAKE_NVML_INIT_ERROR");
    if (error && atoi(error) != 0) return atoi(error);
    initialized = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) { return nvmlInitWithFlags(0); }

nvmlReturn_t nvmlShutdown(void) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    initialized = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    copy_text(version, length, "580.95.05");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *version = 13000;
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_NO_V2
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
    return nvmlSystemGetCudaDriverVersion(version);
}
#endif

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *count = device_count();
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (index >= device_count()) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned int length) {
    nvmlReturn_t ret = check(dev);
    if (ret == NVML_SUCCESS) copy_text(name, length, dev->name);
    return ret;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int length) {
    nvmlReturn_t ret = check(dev);
    if (ret == NVML_SUCCESS) copy_text(uuid, length, dev->uuid);
    return ret;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    memset(pci, 0, sizeof *pci);
    copy_text(pci->busIdLegacy, sizeof pci->busIdLegacy, dev->bus_id + 4);
    copy_text(pci->busId, sizeof pci->busId, dev->bus_id);
    pci->bus = dev->bus;
    pci->pciDeviceId = dev->pci_device_id;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *memory) {
    maybe_fault("hang_memory", "segfault_memory");
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    if (!dev->memory_supported) return NVML_ERROR_NOT_SUPPORTED;
    /* Since R510, v1 `used` includes the reserved memory. */
    memory->total = dev->total;
    memory->used = dev->used + dev->reserved;
    memory->free = dev->total - memory->used;
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_NO_V2
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *memory) {
    maybe_fault("hang_memory", "segfault_memory");
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    if (memory->version != NVML_MEMORY_V2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (!dev->memory_supported) return NVML_ERROR_NOT_SUPPORTED;
    memory->total = dev->total;
    memory->reserved = dev->reserved;
    memory->used = dev->used;
    memory->free = dev->total - dev->reserved - dev->used;
    return NVML_SUCCESS;
}
#endif

nvmlReturn_t nvmlDeviceGetMemoryBusWidth(nvmlDevice_t dev, unsigned int *width) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    if (dev->bus_width == 0) return NVML_ERROR_NOT_SUPPORTED;
    *width = dev->bus_width;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t dev, int type, unsigned int *clock) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    if (type != NVML_CLOCK_MEM || dev->max_mem_clock == 0) return NVML_ERROR_NOT_SUPPORTED;
    *clock = dev->max_mem_clock;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t dev, int *major, int *minor) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    *major = dev->cc_major;
    *minor = dev->cc_minor;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t dev, unsigned int *current, unsigned int *pending) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    if (dev != &devices[0]) return NVML_ERROR_NOT_SUPPORTED; /* only the H100 has MIG (off) */
    *current = 0;
    *pending = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t dev, unsigned int *count,
                                                     nvmlProcessInfo_t *infos) {
    nvmlReturn_t ret = check(dev);
    if (ret != NVML_SUCCESS) return ret;
    unsigned int have = dev->process_bytes ? 1u : 0u;
    if (have == 0) {
        *count = 0;
        return NVML_SUCCESS;
    }
    if (infos == NULL || *count < have) {
        *count = have;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    infos[0].pid = 4242;
    infos[0].usedGpuMemory = dev->process_bytes;
    infos[0].gpuInstanceId = 0xFFFFFFFFu;
    infos[0].computeInstanceId = 0xFFFFFFFFu;
    *count = have;
    return NVML_SUCCESS;
}
