#pragma once
// StatsCollector: a ForwardHook that accumulates ChannelStats of every input group, per
// modality. With `async` the accumulation runs on one background thread fed by a bounded queue
// (for a forward on a GPU, where the CPU is otherwise idle); inline it is one pass over the
// input in the forward's thread, which measured cheaper on a 2-core CPU (bench/README.md).
// Results are identical either way: each group's batches are accumulated in forward order.
// Thread-safety: onLinearInput is called from the forward's thread; finish() from the same.
#include <ATen/ATen.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/forward_hook.h"
#include "session.h"

namespace mq::core {

class DeviceStats;

class StatsCollector : public ForwardHook {
public:
    // groupNames/groupChannels: one entry per input group of the model.
    StatsCollector(std::vector<std::string> groupNames, std::vector<int64_t> groupChannels, bool async = true);
    ~StatsCollector() override;

    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override;
    // Inline on the CPU, a batch of one modality: the rows are read as the forward makes them
    // (ChannelStats::accumulate with its maker), the same statistics as onLinearInput's.
    bool observeAsMade(int group, const at::Tensor& out, const at::Tensor& modality, const RowMaker& make) override;

    // Waits for queued work, computes pooled statistics and returns them by group name.
    // Rethrows the first error of the worker (e.g. a NaN, as InputError).
    std::map<std::string, InputStats> finish();

private:
    struct Item {
        int group;
        at::Tensor x, modality;
    };
    void accumulate(const Item& it);
    void workerLoop();
    void rethrowIfFailed();

    std::vector<std::string> m_names;
    std::vector<InputStats> m_stats;
    bool m_async;
    // Under --device cuda (cudaKernelsEnabled at construction): each group's accumulators on
    // the GPU, merged into m_stats by finish().
    bool m_onGpu = false;
    std::vector<std::unique_ptr<DeviceStats>> m_device;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Item> m_queue;
    bool m_stop = false;
    size_t m_busy = 0;
    std::exception_ptr m_error;
    std::thread m_worker;
    static constexpr size_t kMaxQueued = 64;
};

// Every rank's statistics of the same groups combined in place (dist.h): per modality, counts
// and histograms summed, minima and maxima taken (exact), sums of |x| and x^2 summed (the order
// differs from one process's, so they agree with it to rounding); the pooled statistics are then
// merged from the modalities as finish() merges them. A group one rank never saw (an encoder
// without media in its share) takes its width from the others. No-op in a single process.
void reduceAcrossRanks(std::map<std::string, InputStats>& stats);

} // namespace mq::core
