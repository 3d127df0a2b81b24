#include "calib/device_stats.h"

#include "common/error.h"
#include "cuda/kernels.h"

namespace mq::core {

struct DeviceStats::Impl {
    int64_t K = 0;
    cuda::Buffer min, max, sumAbs, sumSq, hist, count, nonFinite;
    cuda::Buffer x, tags; // staging for CPU inputs, grown as needed
    cuda::StatsOut out() const
    {
        cuda::StatsOut o;
        o.min = min.as<float>();
        o.max = max.as<float>();
        o.sumAbs = sumAbs.as<double>();
        o.sumSq = sumSq.as<double>();
        o.hist = hist.as<uint32_t>();
        o.count = count.as<unsigned long long>();
        o.nonFinite = nonFinite.as<unsigned long long>();
        return o;
    }
};

DeviceStats::DeviceStats(int64_t k) : d_(std::make_unique<Impl>())
{
    const size_t n = size_t(kNumModalities) * size_t(k);
    d_->K = k;
    d_->min = cuda::Buffer(n * sizeof(float));
    d_->max = cuda::Buffer(n * sizeof(float));
    d_->sumAbs = cuda::Buffer(n * sizeof(double));
    d_->sumSq = cuda::Buffer(n * sizeof(double));
    d_->hist = cuda::Buffer(n * kHistBins * sizeof(uint32_t));
    d_->count = cuda::Buffer(kNumModalities * sizeof(unsigned long long));
    d_->nonFinite = cuda::Buffer(sizeof(unsigned long long));
    cuda::statsReset(d_->out(), k, kNumModalities);
}

DeviceStats::~DeviceStats() = default;

int64_t DeviceStats::channels() const
{
    return d_->K;
}

void DeviceStats::accumulate(const at::Tensor& xIn, const at::Tensor& modality)
{
    static_assert(kHistBins == cuda::kHistBins && kHistMinExp == cuda::kHistMinExp,
                  "the GPU histogram must use the engine's bins");
    const at::Tensor x = xIn.to(at::kFloat).contiguous();
    if (x.dim() != 2 || x.size(1) != d_->K)
        throw Error("GPU statistics of " + std::to_string(d_->K) + " channels given a batch of shape "
                    + std::to_string(x.dim() == 2 ? x.size(1) : -1) + " channels");
    const int64_t rows = x.size(0);
    if (rows == 0)
        return;
    const float* px = nullptr;
    if (x.is_cuda()) {
        px = x.data_ptr<float>();
    } else {
        const size_t bytes = size_t(x.numel()) * sizeof(float);
        if (d_->x.bytes() < bytes)
            d_->x = cuda::Buffer(bytes);
        d_->x.upload(x.data_ptr<float>(), bytes);
        px = d_->x.as<float>();
    }
    const uint8_t* pt = nullptr;
    at::Tensor tags;
    if (modality.defined() && modality.numel() > 0) {
        tags = modality.to(at::kByte).contiguous();
        if (tags.numel() != rows)
            throw Error("GPU statistics: " + std::to_string(tags.numel()) + " modality tags for " + std::to_string(rows)
                        + " rows");
        if (tags.is_cuda()) {
            pt = tags.data_ptr<uint8_t>();
        } else {
            if (d_->tags.bytes() < size_t(rows))
                d_->tags = cuda::Buffer(size_t(rows));
            d_->tags.upload(tags.data_ptr<uint8_t>(), size_t(rows));
            pt = d_->tags.as<uint8_t>();
        }
    }
    cuda::channelStats(px, pt, rows, d_->K, kNumModalities, d_->out());
    // The staging buffers are reused by the next batch, and a CUDA tensor may be freed after
    // this call: wait for the kernel.
    cuda::synchronize();
}

void DeviceStats::mergeInto(std::array<ChannelStats, kNumModalities>& out, const std::string& what) const
{
    unsigned long long bad = 0;
    d_->nonFinite.download(&bad, sizeof bad);
    if (bad)
        throw NonFiniteInput(what + ": " + std::to_string(bad)
                             + " non-finite values (NaN or Inf) on the GPU's statistics pass; calibration data must "
                               "produce finite activations");
    std::vector<unsigned long long> count(kNumModalities);
    d_->count.download(count.data(), count.size() * sizeof(unsigned long long));
    const size_t k = size_t(d_->K);
    for (int m = 0; m < kNumModalities; ++m) {
        if (count[size_t(m)] == 0)
            continue;
        // The modality's rows of the [modality, channel] buffers, straight into a ChannelStats.
        ChannelStats s;
        s.reset(d_->K);
        s.count = int64_t(count[size_t(m)]);
        const size_t o = size_t(m) * k;
        d_->min.download(s.min.data(), k * sizeof(float), o * sizeof(float));
        d_->max.download(s.max.data(), k * sizeof(float), o * sizeof(float));
        d_->sumAbs.download(s.sumAbs.data(), k * sizeof(double), o * sizeof(double));
        d_->sumSq.download(s.sumSq.data(), k * sizeof(double), o * sizeof(double));
        d_->hist.download(s.hist.data(), k * kHistBins * sizeof(uint32_t), o * kHistBins * sizeof(uint32_t));
        if (out[size_t(m)].channels == 0)
            out[size_t(m)].reset(d_->K);
        out[size_t(m)].merge(s);
    }
}

} // namespace mq::core
