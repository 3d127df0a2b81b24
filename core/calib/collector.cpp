#include "calib/collector.h"

#include "calib/device_stats.h"
#include "common/dist.h"
#include "common/runtime.h"

#include "common/error.h"

#include <algorithm>

namespace mq::core {

StatsCollector::StatsCollector(std::vector<std::string> names, std::vector<int64_t> channels, bool async)
    : m_names(std::move(names)), m_stats(m_names.size()), m_async(async), m_onGpu(cudaKernelsEnabled()),
      m_device(m_stats.size())
{
    for (size_t g = 0; g < m_stats.size(); ++g)
        for (auto& s : m_stats[g].perModality)
            s.reset(channels[g]);
    if (m_async)
        m_worker = std::thread([this] { workerLoop(); });
}

StatsCollector::~StatsCollector()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_worker.joinable())
        m_worker.join();
}

namespace {

// One pass over a batch's modality tags: whether any is out of range, and the one modality of
// the whole batch (-1 where they differ). A loop over the bytes rather than ATen reductions (a
// few microseconds each, at every input group of every batch).
struct TagScan {
    bool outOfRange = false;
    int only = 0;
};

TagScan scanTags(const at::Tensor& tags)
{
    const int64_t n = tags.numel();
    const uint8_t* tag = n ? tags.data_ptr<uint8_t>() : nullptr;
    uint8_t maxTag = 0, differs = 0;
    for (int64_t i = 0; i < n; ++i) {
        maxTag = std::max(maxTag, tag[i]);
        differs |= uint8_t(tag[i] != tag[0]);
    }
    TagScan s;
    s.outOfRange = maxTag >= kNumModalities;
    s.only = differs ? -1 : n ? int(tag[0]) : 0;
    return s;
}

} // namespace

bool StatsCollector::observeAsMade(int group, const at::Tensor& out, const at::Tensor& modality, const RowMaker& make)
{
    // The queue and the GPU take whole tensors; a first input (encoder groups learn their
    // width from it), a width that does not match and bad tags take onLinearInput's path and
    // its messages.
    if (m_async || m_onGpu || group < 0 || size_t(group) >= m_stats.size() || !modality.is_cpu()
        || modality.scalar_type() != at::kByte)
        return false;
    InputStats& st = m_stats[size_t(group)];
    if (out.dim() != 2 || st.perModality[0].channels == 0 || out.size(1) != st.perModality[0].channels
        || !out.is_contiguous() || modality.numel() != out.size(0))
        return false;
    const TagScan tags = scanTags(modality.contiguous());
    if (tags.outOfRange || tags.only < 0)
        return false;
    const std::string what = "input of " + m_names[size_t(group)];
    st.perModality[size_t(tags.only)].accumulate(out.data_ptr<float>(), out.size(0), what, make);
    return true;
}

void StatsCollector::accumulate(const Item& it)
{
    if (it.group < 0 || size_t(it.group) >= m_stats.size())
        throw Error("statistics requested for unknown input group " + std::to_string(it.group));
    InputStats& st = m_stats[size_t(it.group)];
    // On the GPU path a CUDA LibTorch's tensor stays where it is (the kernel reads it there).
    at::Tensor x = m_onGpu ? it.x.to(at::kFloat).contiguous() : it.x.to(at::kCPU, at::kFloat).contiguous();
    if (st.perModality[0].channels == 0) // width learnt from the first input (encoder groups)
        for (auto& m : st.perModality)
            m.reset(x.size(1));
    if (x.size(1) != st.perModality[0].channels)
        throw Error("input of " + m_names[size_t(it.group)] + " has " + std::to_string(x.size(1))
                    + " channels, earlier batches had " + std::to_string(st.perModality[0].channels));
    at::Tensor tags = it.modality.to(at::kCPU).contiguous();
    const std::string what = "input of " + m_names[size_t(it.group)];
    // The tags' range and whether one modality has the whole batch (text-only data: the fast path).
    const TagScan scan = scanTags(tags);
    if (scan.outOfRange)
        throw InputError(what + ": modality tag out of range");
    if (m_onGpu) { // the statistics kernel: one pass over every modality's rows
        auto& dev = m_device[size_t(it.group)];
        if (!dev)
            dev = std::make_unique<DeviceStats>(x.size(1));
        dev->accumulate(x, tags);
        return;
    }
    if (scan.only >= 0) {
        st.perModality[size_t(scan.only)].accumulate(x.data_ptr<float>(), x.size(0), what);
        return;
    }
    // Check the whole batch first so an error names the row of the hook's input, not a row
    // of one modality's subset.
    at::Tensor bad = at::isfinite(x).logical_not().nonzero();
    if (bad.size(0) > 0) {
        const int64_t r = bad[0][0].item<int64_t>(), c = bad[0][1].item<int64_t>();
        throw NonFiniteInput(what + ": non-finite value (" + std::to_string(x[r][c].item<float>()) + ") at row "
                         + std::to_string(r) + ", channel " + std::to_string(c)
                         + "; calibration data must produce finite activations");
    }
    for (int m = 0; m < kNumModalities; ++m) {
        at::Tensor rows = tags.eq(m).nonzero().flatten();
        if (rows.numel() == 0)
            continue;
        at::Tensor sub = x.index_select(0, rows).contiguous();
        st.perModality[size_t(m)].accumulate(sub.data_ptr<float>(), sub.size(0), what);
    }
}

void StatsCollector::workerLoop()
{
    for (;;) {
        Item it;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty())
                return;
            it = std::move(m_queue.front());
            m_queue.pop_front();
            ++m_busy;
        }
        m_cv.notify_all();
        try {
            if (!m_error)
                accumulate(it);
        } catch (...) {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (!m_error)
                m_error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            --m_busy;
        }
        m_cv.notify_all();
    }
}

void StatsCollector::rethrowIfFailed()
{
    std::exception_ptr e;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        e = m_error;
    }
    if (e)
        std::rethrow_exception(e);
}

at::Tensor StatsCollector::onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality)
{
    Item it{group, x, modality};
    if (!m_async) {
        accumulate(it);
        return x;
    }
    rethrowIfFailed();
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [this] { return m_queue.size() < kMaxQueued; });
        m_queue.push_back(std::move(it));
    }
    m_cv.notify_all();
    return x;
}

namespace {

// The pooled statistics merged from the modalities (in modality order); a modality no token
// had keeps no arrays (as a loaded session has it).
void poolModalities(InputStats& st)
{
    st.pooled = ChannelStats();
    st.pooled.reset(st.perModality[0].channels);
    for (auto& s : st.perModality) {
        st.pooled.merge(s);
        if (s.empty())
            s = ChannelStats();
    }
}

} // namespace

std::map<std::string, InputStats> StatsCollector::finish()
{
    if (m_async) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [this] { return m_queue.empty() && m_busy == 0; });
    }
    rethrowIfFailed();
    std::map<std::string, InputStats> out;
    for (size_t g = 0; g < m_stats.size(); ++g) {
        if (m_device[g]) {
            m_device[g]->mergeInto(m_stats[g].perModality, "input of " + m_names[g]);
            m_device[g].reset();
        }
        InputStats st = m_stats[g];
        poolModalities(st);
        out[m_names[g]] = std::move(st);
    }
    return out;
}

void reduceAcrossRanks(std::map<std::string, InputStats>& stats)
{
    if (!dist::parallel())
        return;
    // Every rank holds the same groups (the model's and the calibration source's), in map order.
    std::vector<int64_t> widths;
    for (const auto& [name, st] : stats)
        for (const ChannelStats& c : st.perModality)
            widths.push_back(c.channels);
    dist::max(widths);
    std::vector<int64_t> counts;
    std::vector<float> lo, hi;
    std::vector<double> sums;
    std::vector<uint64_t> hist;
    size_t slot = 0;
    for (auto& [name, st] : stats)
        for (ChannelStats& c : st.perModality) {
            const int64_t k = widths[slot++];
            if (k == 0)
                continue;
            if (c.empty() || c.channels != k) {
                if (!c.empty())
                    throw Error("input group '" + name + "': " + std::to_string(c.channels) + " channels on rank "
                                + std::to_string(dist::rank()) + ", " + std::to_string(k) + " on another");
                c.reset(k); // the identity of every reduction
            }
            counts.push_back(c.count);
            lo.insert(lo.end(), c.min.begin(), c.min.end());
            hi.insert(hi.end(), c.max.begin(), c.max.end());
            sums.insert(sums.end(), c.sumAbs.begin(), c.sumAbs.end());
            sums.insert(sums.end(), c.sumSq.begin(), c.sumSq.end());
            hist.insert(hist.end(), c.hist.begin(), c.hist.end());
        }
    dist::sum(counts);
    dist::min(lo);
    dist::max(hi);
    dist::sum(sums);
    dist::sum(hist);
    slot = 0;
    size_t ci = 0, vi = 0, si = 0, hi2 = 0;
    for (auto& [name, st] : stats) {
        for (ChannelStats& c : st.perModality) {
            const int64_t k = widths[slot++];
            if (k == 0)
                continue;
            c.count = counts[ci++];
            std::copy(lo.begin() + long(vi), lo.begin() + long(vi) + k, c.min.begin());
            std::copy(hi.begin() + long(vi), hi.begin() + long(vi) + k, c.max.begin());
            vi += size_t(k);
            std::copy(sums.begin() + long(si), sums.begin() + long(si) + k, c.sumAbs.begin());
            std::copy(sums.begin() + long(si) + k, sums.begin() + long(si) + 2 * k, c.sumSq.begin());
            si += size_t(2 * k);
            for (int64_t i = 0; i < k * kHistBins; ++i)
                c.hist[size_t(i)] = uint32_t(hist[hi2 + size_t(i)]);
            hi2 += size_t(k * kHistBins);
        }
        poolModalities(st);
    }
}

} // namespace mq::core
