// kernels.h in a build without CUDA (MQ_WITH_CUDA OFF, or no nvcc found): built() is false,
// probe() says why, and every other entry point throws.
#include "cuda/kernels.h"

namespace mq::cuda {

namespace {
[[noreturn]] void unavailable(const char* what)
{
    throw Error(std::string(what) + ": this build has no CUDA kernels (configure with MQ_WITH_CUDA=ON and the CUDA Toolkit)");
}
} // namespace

bool built() { return false; }

DeviceInfo probe()
{
    DeviceInfo d;
    d.reason = "this build has no CUDA kernels (MQ_WITH_CUDA was OFF or CMake found no nvcc)";
    return d;
}

Buffer::Buffer(size_t) { unavailable("Buffer"); }
Buffer::~Buffer() = default;
Buffer::Buffer(Buffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {}
Buffer& Buffer::operator=(Buffer&&) noexcept { return *this; }
void Buffer::upload(const void*, size_t, size_t) { unavailable("Buffer::upload"); }
void Buffer::download(void*, size_t, size_t) const { unavailable("Buffer::download"); }
void Buffer::zero() { unavailable("Buffer::zero"); }
void synchronize() { unavailable("synchronize"); }
Timer::Timer() { unavailable("Timer"); }
Timer::~Timer() = default;
void Timer::start(void*) { unavailable("Timer"); }
double Timer::stopMs(void*) { unavailable("Timer"); }

void statsReset(const StatsOut&, int64_t, int, void*) { unavailable("statsReset"); }
void channelStats(const float*, const uint8_t*, int64_t, int64_t, int, const StatsOut&, void*) { unavailable("channelStats"); }
size_t gridScoresWorkspaceBytes(int64_t, int64_t, int) { return 0; }
void gridScores(const float*, int64_t, int64_t, const float*, const float*, const double*, int, const GridParams&, float*,
                void*, void*) { unavailable("gridScores"); }
void absMax(const float*, int64_t, float*, void*) { unavailable("absMax"); }
void nvfp4Quantize(const float*, int64_t, int64_t, float, uint8_t*, uint8_t*, void*) { unavailable("nvfp4Quantize"); }
void nvfp4Dequantize(const uint8_t*, const uint8_t*, int64_t, int64_t, float, float*, void*) { unavailable("nvfp4Dequantize"); }
void mxfp4Quantize(const float*, int64_t, int64_t, bool, uint8_t*, uint8_t*, void*) { unavailable("mxfp4Quantize"); }
void mxfp4Dequantize(const uint8_t*, const uint8_t*, int64_t, int64_t, float*, void*) { unavailable("mxfp4Dequantize"); }
void nvfp4FakeQuant(const float*, int64_t, int64_t, float, float*, void*) { unavailable("nvfp4FakeQuant"); }
void mxfp4FakeQuant(const float*, int64_t, int64_t, bool, float*, void*) { unavailable("mxfp4FakeQuant"); }
void quantizeActivations(const uint16_t*, int64_t, int64_t, const float*, const int32_t*, int, float, uint8_t*, float*,
                         uint16_t*, void*) { unavailable("quantizeActivations"); }
void w4a4Linear(const uint8_t*, const float*, const uint8_t*, const float*, const uint16_t*, const uint16_t*, int,
                const uint16_t*, int64_t, int64_t, int64_t, uint16_t*, int32_t*, void*, W4a4Tile) { unavailable("w4a4Linear"); }

} // namespace mq::cuda
