#include "streaming.h"

#include "calib/collector.h"
#include "common/error.h"
#include "eval/layer_error.h"
#include "quant/dabc.h"
#include "quant/quant_linear.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace mq::core {

int64_t parseByteSize(const std::string& text)
{
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || errno != 0 || !(v >= 0))
        throw InputError("'" + text + "' is not a size (expected bytes or a number with K, M or G, e.g. 4G)");
    std::string unit(end);
    double mult = 1;
    if (unit == "" || unit == "B")
        mult = 1;
    else if (unit == "K" || unit == "KB" || unit == "KiB")
        mult = 1024.0;
    else if (unit == "M" || unit == "MB" || unit == "MiB")
        mult = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GiB")
        mult = 1024.0 * 1024 * 1024;
    else
        throw InputError("'" + text + "': unknown unit '" + unit + "' (expected K, M or G)");
    const double bytes = v * mult;
    if (bytes > 9.0e18)
        throw InputError("'" + text + "' is too large");
    return int64_t(bytes);
}

int64_t sampleStride(int64_t rows, int64_t channels, const MdqfoSettings& st)
{
    int64_t maxRows = rows;
    if (st.sampleRows > 0)
        maxRows = st.sampleRows;
    else if (st.sampleElements > 0)
        maxRows = std::max<int64_t>(1, st.sampleElements / std::max<int64_t>(1, channels));
    if (rows <= maxRows)
        return 1;
    return (rows + maxRows - 1) / maxRows;
}

// ---------------------------------------------------------------------------------------------
// StateStore

StateStore::StateStore(const StreamOptions& options) : m_opt(options) {}

StateStore::~StateStore()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void StateStore::openSpill()
{
    std::string dir = m_opt.spillDir;
    if (dir.empty()) {
        const char* t = std::getenv("TMPDIR");
        dir = t && *t ? t : "/tmp";
    }
    std::string path = dir + "/morphoquant-states-XXXXXX";
    std::vector<char> buf(path.begin(), path.end());
    buf.push_back('\0');
    m_fd = ::mkstemp(buf.data());
    if (m_fd < 0)
        throw Error(dir + ": cannot create a temporary file for hidden states past the memory budget ("
                    + std::strerror(errno) + "); raise --mem-budget or set TMPDIR");
    // Unlinked at once: the space is freed when the file is closed, also after a kill.
    ::unlink(buf.data());
}

void StateStore::put(size_t i, const at::Tensor& tIn)
{
    const at::Tensor t = tIn.to(at::kCPU, at::kFloat).contiguous();
    const int64_t bytes = t.numel() * int64_t(sizeof(float));
    if (i >= m_slots.size())
        m_slots.resize(i + 1);
    Slot& s = m_slots[i];
    if (s.resident.defined() || s.offset >= 0) {
        if (t.sizes() != at::IntArrayRef(s.shape))
            throw Error("StateStore: slot " + std::to_string(i) + " written with another shape");
    } else {
        s.shape = t.sizes().vec();
        if (m_resident + bytes > m_opt.memBudget) {
            if (m_fd < 0)
                openSpill();
            s.offset = m_spilled;
            m_spilled += bytes;
        } else {
            m_resident += bytes;
        }
    }
    if (s.offset < 0) {
        s.resident = t;
        return;
    }
    const char* p = static_cast<const char*>(t.data_ptr());
    int64_t done = 0;
    while (done < bytes) {
        const ssize_t n = ::pwrite(m_fd, p + done, size_t(bytes - done), off_t(s.offset + done));
        if (n <= 0)
            throw Error(std::string("cannot write hidden states to the temporary file: ") + std::strerror(errno)
                        + " (disk full? raise --mem-budget or set TMPDIR)");
        done += n;
    }
}

at::Tensor StateStore::get(size_t i) const
{
    const Slot& s = m_slots.at(i);
    if (s.offset < 0)
        return s.resident;
    at::Tensor t = at::empty(s.shape, at::kFloat);
    const int64_t bytes = t.numel() * int64_t(sizeof(float));
    char* p = static_cast<char*>(t.data_ptr());
    int64_t done = 0;
    while (done < bytes) {
        const ssize_t n = ::pread(m_fd, p + done, size_t(bytes - done), off_t(s.offset + done));
        if (n <= 0)
            throw Error(std::string("cannot read hidden states back from the temporary file: ") + std::strerror(errno));
        done += n;
    }
    return t;
}

namespace {

void checkCancel(const CancelToken* cancel)
{
    if (cancel)
        cancel->check();
}

// The batches of a stage, their hidden states advancing layer by layer.
class LayerwiseRun {
public:
    LayerwiseRun(const DecoderModel& model, const StreamOptions& opt) : m_model(model), m_states(opt) {}

    // Adds a batch whose input is prepared (embeddings and encoder features).
    void add(const DecoderInput& in)
    {
        Batch b;
        b.B = in.embeds.size(0);
        b.T = in.embeds.size(1);
        b.tags = in.modality.defined() ? in.modality.reshape({b.B * b.T}).to(at::kByte)
                                       : at::zeros({b.B * b.T}, at::TensorOptions().dtype(at::kByte));
        b.positions = in.positions;
        b.ids = in.ids;
        m_states.put(m_batches.size(), in.embeds);
        m_rows += b.B * b.T;
        m_batches.push_back(std::move(b));
    }
    size_t batches() const { return m_batches.size(); }
    int64_t rows() const { return m_rows; }
    int64_t rowsOf(size_t i) const { return m_batches[i].B * m_batches[i].T; }

    // Layer w over batch i with hook; keep: store the output as the batch's new state.
    at::Tensor step(size_t i, const LayerWeights& w, ForwardHook* hook, bool keep)
    {
        const Batch& b = m_batches[i];
        const Rotary rot = m_model.rotary(b.positions, b.B, b.T);
        at::Tensor out = m_model.layerForward(w, m_states.get(i), hook, b.tags, rot);
        if (keep)
            m_states.put(i, out);
        return out;
    }
    // Layer w over batch i until the hook throws StopForward (a capture): nothing kept.
    void probe(size_t i, const LayerWeights& w, ForwardHook* hook)
    {
        try {
            step(i, w, hook, false);
        } catch (const StopForward&) {
        }
    }
    at::Tensor state(size_t i) const { return m_states.get(i); }
    const at::Tensor& ids(size_t i) const { return m_batches[i].ids; }

private:
    struct Batch {
        int64_t B = 0, T = 0;
        at::Tensor tags, positions, ids;
    };
    const DecoderModel& m_model;
    StateStore m_states;
    std::vector<Batch> m_batches;
    int64_t m_rows = 0;
};

// Keeps every stride-th row (global row order over the batches) of one group's input and the
// running max |X_c| over all rows, then stops the forward; other groups go to inner.
class SampledCapture : public ForwardHook {
public:
    SampledCapture(int target, ForwardHook* inner, int64_t stride) : m_target(target), m_inner(inner), m_stride(stride)
    {
    }
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        if (group != m_target)
            return m_inner ? m_inner->onLinearInput(group, x, modality) : x;
        const at::Tensor a = x.abs().amax(0);
        m_absMax = m_absMax.defined() ? at::maximum(m_absMax, a) : a;
        const int64_t n = x.size(0);
        if (m_stride == 1) {
            m_parts.push_back(x.clone());
        } else {
            // first row of this batch on the global grid 0, stride, 2*stride, ...
            const int64_t first = (m_stride - m_seen % m_stride) % m_stride;
            if (first < n)
                m_parts.push_back(x.slice(0, first, n, m_stride).clone());
        }
        m_seen += n;
        throw StopForward{};
    }
    at::Tensor rows() const { return at::cat(m_parts, 0); }
    at::Tensor alpha0() const { return m_absMax.clamp_min(1e-8); }

private:
    int m_target;
    ForwardHook* m_inner;
    int64_t m_stride;
    int64_t m_seen = 0;
    std::vector<at::Tensor> m_parts;
    at::Tensor m_absMax;
};

std::string layerText(int l, int L) { return "layer " + std::to_string(l + 1) + "/" + std::to_string(L); }

} // namespace

// ---------------------------------------------------------------------------------------------

void calibrateStreamed(Session& s, const DecoderModel& model, const CalibrationData& calib,
                       const ProgressSink& progress, const CancelToken* cancel, const StreamOptions& options)
{
    c10::InferenceMode guard;
    std::vector<std::string> names;
    std::vector<int64_t> channels;
    calibrationGroups(model, calib, &names, &channels);
    StatsCollector collector(names, channels, false);
    CountingHook counter(&collector);
    EtaClock clock;
    const int L = model.numLayers();
    const double steps = double(L) + 1.0;
    LayerwiseRun run(model, options);
    for (size_t i = 0; i < calib.batches(); ++i) {
        checkCancel(cancel);
        run.add(calib.prepare(i, model, &counter, true));
        report(progress, "calibrate", double(i + 1) / double(calib.batches()) / steps,
               "inputs " + std::to_string(i + 1) + "/" + std::to_string(calib.batches()));
    }
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        const LayerWeights w = model.layerWeights(l);
        for (size_t i = 0; i < run.batches(); ++i) {
            checkCancel(cancel);
            run.step(i, w, &counter, true);
        }
        const double rows = double(run.rows()) * double(l + 1);
        report(progress, "calibrate", (l + 2) / steps, layerText(l, L),
               {{"tokens_per_s", rows / std::max(1e-9, clock.elapsedSeconds())}});
    }
    storeCalibration(s, model, calib, names, collector.finish());
}

void buildPlanStreamed(Session& s, const DecoderModel& model, const CalibrationData& calib,
                       const QuantSettings& settingsIn, const ProgressSink& progress, const CancelToken* cancel,
                       const SampledCaptureObserver& onCapture, const StreamOptions& options)
{
    Session w = s;
    const QuantSettings settings = preparePlan(w, settingsIn); // throws without statistics
    if (settings.act == ActScheme::PerChannelStatic) {
        c10::InferenceMode guard;
        const DecoderModel qmodel = quantizeWeights(model, settings.weight);
        const size_t n = model.groups().size();
        QuantSimHook prefix(settings, std::vector<GroupQuant>(n));
        LayerwiseRun run(qmodel, options);
        for (size_t i = 0; i < calib.batches(); ++i) {
            checkCancel(cancel);
            run.add(calib.prepare(i, qmodel, nullptr, false));
        }
        for (int l = 0; l < qmodel.numLayers(); ++l) {
            checkCancel(cancel);
            const LayerWeights wq = qmodel.layerWeights(l);
            for (int g : qmodel.layerGroups(l)) {
                checkCancel(cancel);
                const std::string& name = model.groups()[size_t(g)];
                prefix.setActiveLimit(g);
                SampledCapture cap(g, &prefix,
                                   sampleStride(run.rows(), model.groupChannels(g), settings.mdqfo));
                for (size_t i = 0; i < run.batches(); ++i) {
                    checkCancel(cancel);
                    run.probe(i, wq, &cap);
                }
                const at::Tensor x = cap.rows(), alpha0 = cap.alpha0();
                if (onCapture)
                    onCapture(g, x, alpha0);
                prefix.setGroup(g, planGroup(w, name, x, alpha0, settings, cancel));
                reportGroupPlan(progress, size_t(g), n, name, w);
            }
            // The layer's outputs with all its groups quantized: the next layer's inputs.
            prefix.setActiveLimit(qmodel.layerGroups(l)[3] + 1);
            for (size_t i = 0; i < run.batches(); ++i) {
                checkCancel(cancel);
                run.step(i, wq, &prefix, true);
            }
        }
    }
    s = std::move(w);
}

std::vector<ModuleError> computeLayerErrorsStreamed(const DecoderModel& fp, const Session& s,
                                                    const CalibrationData& calib, int maxBatches,
                                                    const ProgressSink& progress, const CancelToken* cancel,
                                                    const StreamOptions& options)
{
    if (!s.settings)
        throw Error("layer errors need a quantization plan: quantize first");
    c10::InferenceMode guard;
    QuantizedModel q = makeQuantizedModel(fp, s);
    LayerWeights wfp, wq;
    LayerErrorHook hook(fp, q.hook.get(), [&wq](int i) { return wq.weight(i); });
    const size_t total = maxBatches > 0 ? std::min(calib.batches(), size_t(maxBatches)) : calib.batches();
    LayerwiseRun run(fp, options);
    for (size_t i = 0; i < total; ++i) {
        checkCancel(cancel);
        run.add(calib.prepare(i, fp, nullptr, false));
    }
    EtaClock clock;
    const int L = fp.numLayers();
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        // The previous layer's weights go before this layer's arrive: one layer of each at a time.
        wfp = LayerWeights();
        wq = LayerWeights();
        wfp = fp.layerWeights(l);
        wq = q.model.layerWeights(l);
        for (size_t i = 0; i < run.batches(); ++i) {
            checkCancel(cancel);
            run.step(i, wfp, &hook, true);
        }
        report(progress, "errors", double(l + 1) / double(L), layerText(l, L),
               {{"tokens_per_s", double(hook.tokens()) / std::max(1e-9, clock.elapsedSeconds())}});
    }
    checkCancel(cancel);
    return hook.results();
}

NllResult evaluateStreamed(const DecoderModel& model, const TokenDataset& data, ForwardHook* hook, int batchSize,
                           const ProgressSink& progress, const CancelToken* cancel, const StreamOptions& options)
{
    c10::InferenceMode guard;
    NllResult r;
    LayerwiseRun run(model, options);
    for (const auto& b : equalLengthBatches(data, std::max(1, batchSize))) {
        checkCancel(cancel);
        if (data.sequences[b.front()].size() < 2)
            continue;
        DecoderInput in;
        in.ids = batchTensor(data, b);
        in.embeds = model.embed(in.ids);
        run.add(in);
    }
    EtaClock clock;
    const int L = model.numLayers();
    const double steps = double(L) + 1.0;
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        const LayerWeights w = model.layerWeights(l);
        for (size_t i = 0; i < run.batches(); ++i) {
            checkCancel(cancel);
            run.step(i, w, hook, true);
        }
        report(progress, "eval", double(l + 1) / steps, layerText(l, L),
               {{"tokens_per_s", double(run.rows()) * (l + 1) / L / std::max(1e-9, clock.elapsedSeconds())}});
    }
    double sum = 0.0;
    for (size_t i = 0; i < run.batches(); ++i) {
        checkCancel(cancel);
        const NllSum part = model.nextTokenNll(run.state(i), run.ids(i));
        sum += part.nll;
        r.tokens += part.tokens;
        report(progress, "eval", (double(L) + double(i + 1) / double(run.batches())) / steps,
               "lm_head " + std::to_string(i + 1) + "/" + std::to_string(run.batches()),
               {{"tokens_per_s", double(run.rows()) / std::max(1e-9, clock.elapsedSeconds())}});
    }
    r.nll = r.tokens ? sum / double(r.tokens) : 0.0;
    r.ppl = std::exp(r.nll);
    return r;
}

} // namespace mq::core
