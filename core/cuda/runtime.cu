// The device, memory and timing parts of kernels.h.
#include "cuda/kernels.h"
#include "cuda/check.cuh"

#include <cuda_runtime.h>

#include <utility>

namespace mq::cuda {

void check(cudaError_t e, const char* what)
{
    if (e != cudaSuccess)
        throw Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

void checkLaunch(const char* kernel)
{
    check(cudaGetLastError(), kernel);
}

bool built()
{
    return true;
}

DeviceInfo probe()
{
    DeviceInfo d;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        d.reason = std::string("no usable CUDA device (cudaGetDeviceCount: ") + cudaGetErrorName(e) + ", "
                   + cudaGetErrorString(e) + ")";
        cudaGetLastError(); // clear the sticky state of a failed call
        return d;
    }
    if (n == 0) {
        d.reason = "no CUDA device present";
        return d;
    }
    int dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
        d.reason = "cudaGetDeviceProperties failed";
        return d;
    }
    d.available = true;
    d.name = p.name;
    d.sm = p.major * 10 + p.minor;
    d.multiprocessors = p.multiProcessorCount;
    d.memoryGiB = double(p.totalGlobalMem) / double(1ull << 30);
    int clockKHz = 0, busBits = 0;
    // CUDA 13 removed memoryClockRate from cudaDeviceProp; the attributes may still answer.
    if (cudaDeviceGetAttribute(&clockKHz, cudaDevAttrMemoryClockRate, dev) == cudaSuccess
        && cudaDeviceGetAttribute(&busBits, cudaDevAttrGlobalMemoryBusWidth, dev) == cudaSuccess && clockKHz > 0)
        d.peakBandwidthGBs = 2.0 * double(clockKHz) * 1e3 * double(busBits) / 8.0 / 1e9;
    cudaGetLastError();
    return d;
}

Buffer::Buffer(size_t bytes) : bytes_(bytes)
{
    if (bytes)
        check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
}

Buffer::~Buffer()
{
    if (ptr_)
        cudaFree(ptr_);
}

Buffer::Buffer(Buffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept
{
    if (this != &o) {
        if (ptr_)
            cudaFree(ptr_);
        ptr_ = std::exchange(o.ptr_, nullptr);
        bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
}

void Buffer::upload(const void* host, size_t bytes, size_t offset)
{
    if (offset + bytes > bytes_)
        throw Error("Buffer::upload: " + std::to_string(offset + bytes) + " bytes into a buffer of "
                    + std::to_string(bytes_));
    check(cudaMemcpy(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
}

void Buffer::download(void* host, size_t bytes, size_t offset) const
{
    if (offset + bytes > bytes_)
        throw Error("Buffer::download: " + std::to_string(offset + bytes) + " bytes from a buffer of "
                    + std::to_string(bytes_));
    check(cudaMemcpy(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost),
          "cudaMemcpy (download)");
}

void Buffer::zero()
{
    if (ptr_)
        check(cudaMemset(ptr_, 0, bytes_), "cudaMemset");
}

void synchronize()
{
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

Timer::Timer()
{
    cudaEvent_t a, b;
    check(cudaEventCreate(&a), "cudaEventCreate");
    check(cudaEventCreate(&b), "cudaEventCreate");
    a_ = a;
    b_ = b;
}

Timer::~Timer()
{
    cudaEventDestroy(static_cast<cudaEvent_t>(a_));
    cudaEventDestroy(static_cast<cudaEvent_t>(b_));
}

void Timer::start(void* stream)
{
    check(cudaEventRecord(static_cast<cudaEvent_t>(a_), static_cast<cudaStream_t>(stream)), "cudaEventRecord");
}

double Timer::stopMs(void* stream)
{
    check(cudaEventRecord(static_cast<cudaEvent_t>(b_), static_cast<cudaStream_t>(stream)), "cudaEventRecord");
    check(cudaEventSynchronize(static_cast<cudaEvent_t>(b_)), "cudaEventSynchronize");
    float ms = 0.f;
    check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(a_), static_cast<cudaEvent_t>(b_)),
          "cudaEventElapsedTime");
    return double(ms);
}

} // namespace mq::cuda
