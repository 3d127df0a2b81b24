#pragma once
// Statistics of one input group accumulated on the GPU by the statistics kernel
// (cuda::channelStats), for every modality, and handed back as ChannelStats. Used by
// StatsCollector under `--device cuda` (runtime.h: cudaKernelsEnabled).
#include <ATen/ATen.h>

#include <array>
#include <memory>
#include <string>

#include "calib/channel_stats.h"

namespace mq::core {

class DeviceStats {
public:
    explicit DeviceStats(int64_t channels); // throws cuda::Error where no GPU can be used
    ~DeviceStats();
    DeviceStats(const DeviceStats&) = delete;
    DeviceStats& operator=(const DeviceStats&) = delete;
    int64_t channels() const;
    // x [rows, K] (float32 after conversion; a CPU tensor is copied to the GPU), modality tags
    // [rows] uint8 or an empty tensor for all-text rows.
    void accumulate(const at::Tensor& x, const at::Tensor& modality);
    // Merges the accumulated statistics into out[m] for every modality. A non-finite element
    // seen on the way is an error (NonFiniteInput naming `what` and the count), as on the CPU.
    void mergeInto(std::array<ChannelStats, kNumModalities>& out, const std::string& what) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

} // namespace mq::core
