#include "streaming.h"

#include "encoder_quant.h"

#include "calib/collector.h"
#include "common/dist.h"
#include "common/error.h"
#include "common/runtime.h"
#include "eval/layer_error.h"
#include "quant/dabc.h"
#include "quant/act_quant.h"
#include "quant/formats.h"
#include "quant/gptq.h"
#include "quant/weight_quant.h"
#include "quant/quant_linear.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace mq::core {

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

// The evaluations' batches side by side (forEachParallel, common/runtime.h): the workers for a
// model of this size whose hook, if any, may run concurrently; else 1.
int batchWorkers(const DecoderModel& model, const ForwardHook* hook, size_t batches)
{
    return hook == nullptr || hook->concurrent() ? interBatchWorkers(model.config().hiddenSize, batches) : 1;
}

// The lm_head pass of an evaluation: fn(i) for every batch, and progress(done) from this
// thread: after each batch in turn, or once at the end when they run side by side.
void forEachLmHead(size_t n, int workers, const std::function<void(size_t)>& fn,
                   const std::function<void(size_t)>& progress)
{
    forEachParallel(n, workers, [&](size_t i) {
        fn(i);
        if (workers <= 1)
            progress(i + 1);
    });
    if (workers > 1)
        progress(n);
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
    // Every batch of layer w from stage k to k + 1 (DecoderModel::layerAdvance; pending: the
    // batches' stage-k group inputs, null at k = 0): returns their next group inputs (as
    // computed, not yet hooked; onInput sees each), and past the attention block (k == 2) keeps
    // the residual as each batch's state.
    std::unique_ptr<StateStore> advanceStage(const LayerWeights& w, int k, const StateStore* pending,
                                             ForwardHook* hook, const StreamOptions& opt, const CancelToken* cancel,
                                             const std::function<void(const at::Tensor&)>& onInput = {})
    {
        auto next = std::make_unique<StateStore>(opt);
        for (size_t i = 0; i < batches(); ++i) {
            checkCancel(cancel);
            LayerCursor c = cursor(i, k, k > 0 ? pending->get(i) : at::Tensor());
            advance(i, w, c, k + 1, hook);
            const at::Tensor x = c.pending.contiguous();
            if (onInput)
                onInput(x);
            next->put(i, x);
            if (k == 2) // past the attention block: the residual moved on
                setState(i, c.residual);
        }
        return next;
    }
    // Every batch from stage 4 (pending: the down_proj inputs) to the layer's output, which
    // becomes its state.
    void finishLayer(const LayerWeights& w, const StateStore& pending, ForwardHook* hook, const CancelToken* cancel)
    {
        for (size_t i = 0; i < batches(); ++i) {
            checkCancel(cancel);
            LayerCursor c = cursor(i, 4, pending.get(i));
            advance(i, w, c, 5, hook);
            setState(i, c.residual);
        }
    }
    void setState(size_t i, const at::Tensor& t) { m_states.put(i, t); }
    at::Tensor state(size_t i) const { return m_states.get(i); }
    int64_t residentBytes() const { return m_states.residentBytes(); }
    const at::Tensor& ids(size_t i) const { return m_batches[i].ids; }
    const at::Tensor& tags(size_t i) const { return m_batches[i].tags; }

private:
    struct Batch {
        int64_t B = 0, T = 0;
        at::Tensor tags, positions, ids;
    };
    // Batch i's cursor in the current layer at `stage` with its group input `pending` (stages
    // 1-4); the residual is the batch's state.
    LayerCursor cursor(size_t i, int stage, const at::Tensor& pending) const
    {
        LayerCursor c;
        c.stage = stage;
        c.residual = m_states.get(i);
        c.pending = pending;
        return c;
    }
    void advance(size_t i, const LayerWeights& w, LayerCursor& c, int until, ForwardHook* hook) const
    {
        const Batch& b = m_batches[i];
        m_model.layerAdvance(w, c, until, hook, b.tags, m_model.rotary(b.positions, b.B, b.T));
    }
    const DecoderModel& m_model;
    StateStore m_states;
    std::vector<Batch> m_batches;
    int64_t m_rows = 0;
};

// Keeps every stride-th row (global row order over the batches) of one group's input and the
// running max |X_c| over all rows.
class RowSampler {
public:
    // seen: the global index of the first row this sampler gets (under MPI, the rows of the ranks
    // before this one), so that every rank samples on the one global grid.
    RowSampler(int64_t stride, int64_t channels, int64_t seen = 0)
        : m_stride(stride), m_channels(channels), m_seen(seen)
    {
    }
    void add(const at::Tensor& x)
    {
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
    }
    // The sampled rows (none: [0, channels]) and max |X_c| over every row (none: 0).
    at::Tensor rows() const { return m_parts.empty() ? at::zeros({0, m_channels}, at::kFloat) : at::cat(m_parts, 0); }
    at::Tensor absMax() const { return m_absMax.defined() ? m_absMax : at::zeros({m_channels}, at::kFloat); }
    // Every rank's sample in rank order (the single process's sample) and alpha0 over every
    // rank's rows (dist.h; the sampler alone in a single process).
    at::Tensor gatheredRows() const { return dist::gatherRows(rows()); }
    at::Tensor alpha0() const { return dist::max(absMax().to(at::kFloat)).clamp_min(1e-8); }

private:
    int64_t m_stride;
    int64_t m_channels;
    int64_t m_seen = 0;
    std::vector<at::Tensor> m_parts;
    at::Tensor m_absMax;
};

// Throws InputError naming the model's first tensor holding NaN or Inf, if one does (`what`:
// how the non-finite value showed).
void throwIfNonFiniteWeight(const DecoderModel& model, const std::string& what)
{
    const std::string bad = model.nonFiniteTensor();
    if (!bad.empty())
        throw InputError(model.dir() + ": tensor " + bad + " holds NaN or Inf (" + what + ")");
}

// Names the tensor behind a non-finite result, or says that none is (activations overflowing).
[[noreturn]] void throwNonFinite(const DecoderModel& model, const std::string& whose)
{
    throwIfNonFiniteWeight(model, whose + " next-token log-likelihood is not finite");
    throw Error(whose + " next-token log-likelihood is not finite although no weight holds NaN or Inf in "
                + model.dir() + " (activations overflowing float32?)");
}

std::string layerText(int l, int L) { return "layer " + std::to_string(l + 1) + "/" + std::to_string(L); }

// fn(ids [B, T]) for each evaluation batch (equal-length sequences of at least 2 tokens); under
// MPI for this rank's block of them (dist.h).
template <typename Fn>
void forEachEvalBatch(const TokenDataset& data, int batchSize, const CancelToken* cancel, Fn fn)
{
    const std::vector<std::vector<size_t>> batches = predictingBatches(data, batchSize);
    const auto [first, last] = dist::share(batches.size());
    for (size_t i = first; i < last; ++i) {
        checkCancel(cancel);
        fn(batchTensor(data, batches[i]));
    }
}

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
    // Under MPI each rank takes its block of the batches (dist.h); the statistics are combined
    // once every layer is through.
    const auto [first, last] = dist::share(calib.batches());
    for (size_t i = first; i < last; ++i) {
        checkCancel(cancel);
        run.add(calib.prepare(i, model, &counter, true));
        report(progress, "calibrate", double(i + 1 - first) / double(std::max<size_t>(1, last - first)) / steps,
               "inputs " + std::to_string(i + 1 - first) + "/" + std::to_string(last - first));
    }
    dist::faultPoint("calibrate");
    try {
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
        std::map<std::string, InputStats> stats = collector.finish();
        reduceAcrossRanks(stats);
        storeCalibration(s, model, calib, names, std::move(stats));
    } catch (const NonFiniteInput&) {
        // The weights first: a NaN in a weight reaches the next Linear's input as well.
        throwIfNonFiniteWeight(model, "calibration met it as a non-finite Linear input");
        throw;
    }
}

namespace {

// Rank root's GPTQ result on every rank: the stored codes, scales and zeros with their
// description; the other ranks dequantize the weight from them (gptqQuantize's weight is
// dequantize(stored) exactly, tst_gptq) rather than receive it: four bytes a weight against
// the code's one.
void broadcastGptqResult(GptqResult& r, int root)
{
    StoredWeight& sw = r.stored;
    std::vector<int64_t> meta{sw.rows, sw.cols, sw.bits, sw.groupSize, sw.symmetric ? 1 : 0};
    std::vector<uint8_t> format(sw.format.begin(), sw.format.end());
    std::vector<float> globalScale{sw.globalScale};
    dist::broadcast(meta, root);
    dist::broadcast(format, root);
    dist::broadcast(globalScale, root);
    dist::broadcast(sw.codes, root);
    dist::broadcast(sw.scales, root);
    dist::broadcast(sw.zeros, root);
    sw.rows = meta[0];
    sw.cols = meta[1];
    sw.bits = int(meta[2]);
    sw.groupSize = meta[3];
    sw.symmetric = meta[4] != 0;
    sw.format.assign(format.begin(), format.end());
    sw.globalScale = globalScale[0];
    if (dist::rank() != root)
        r.weight = dequantize(sw);
}

// GPTQ of one input group's Linears (settings.gptq) from the group's inputs in `xs` (one slot per
// batch of `run`): H = A^T A over every row, A the input the Linear sees (x itself, or with the
// GPTAQ-style target the activation-quantized x, with C = X_fp^T A from `fps`). The Linears'
// weights in wq are replaced by the quantized ones and stored in w.weights.
void gptqGroup(Session& w, const DecoderModel& model, int g, const QuantSettings& settings, LayerWeights& wq,
               const LayerwiseRun& run, const StateStore& xs, const StateStore* fps, QuantSimHook& prefix,
               const CancelToken* cancel)
{
    const int64_t k = model.groupChannels(g);
    at::Tensor h = at::zeros({k, k}, at::kDouble), c;
    if (fps)
        c = at::zeros({k, k}, at::kDouble);
    prefix.setActiveLimit(g + 1);
    for (size_t i = 0; i < run.batches(); ++i) {
        checkCancel(cancel);
        at::Tensor a = xs.get(i);
        const at::Tensor& smooth = prefix.group(g).smooth;
        if (fps)
            a = prefix.onLinearInput(g, a, run.tags(i)); // smoothed and quantized as the Linear sees it
        else if (smooth.defined())
            a = a / smooth;
        h.add_(a.t().matmul(a).to(at::kDouble));
        if (fps) {
            const at::Tensor xf = smooth.defined() ? fps->get(i) / smooth : fps->get(i);
            c.add_(xf.t().matmul(a).to(at::kDouble));
        }
    }
    prefix.setActiveLimit(g);
    dist::sumInPlace(h); // every rank's rows (dist.h)
    if (fps)
        dist::sumInPlace(c);
    // Under MPI each Linear's factorization (and its full-precision target) runs on one rank,
    // round robin by module index, and the others receive its result: a 7B down_proj's takes
    // about 12.5 GB, which two ranks on one machine could not both hold (bench/README.md).
    const std::vector<int> members = model.groupMembers(g);
    std::vector<at::Tensor> targets(members.size());
    float amax = 0.f;
    for (size_t i = 0; i < members.size(); ++i) {
        const int m = members[i];
        if (!dist::mine(m))
            continue;
        checkCancel(cancel);
        targets[i] = fps ? fpTargetWeight(wq.weight(m), h, c, settings.gptq.damp) : wq.weight(m);
        if (settings.weight.format == WeightFormat::NVFP4)
            amax = std::max(amax, targets[i].abs().max().item<float>());
    }
    // NVFP4: fused siblings share one global scale (quantizeWeights does the same), from the
    // largest magnitude of any of them.
    float gs = 0.f;
    if (settings.weight.format == WeightFormat::NVFP4) {
        std::vector<float> largest{amax};
        dist::max(largest);
        gs = fmt::nvfp4GlobalScale(largest[0]);
    }
    for (size_t i = 0; i < members.size(); ++i) {
        checkCancel(cancel);
        const int m = members[i];
        const std::string& name = model.modules()[size_t(m)].name;
        const int root = dist::owner(m);
        GptqResult r;
        if (root == dist::rank()) {
            try {
                r = gptqQuantize(targets[i], h, settings.weight, settings.gptq, gs);
            } catch (const Error& e) {
                throw Error(name + ": " + e.what());
            }
            targets[i] = at::Tensor();
        }
        if (dist::parallel())
            broadcastGptqResult(r, root);
        wq.w[size_t(m - wq.firstModule)] = r.weight;
        w.weights[name] = std::move(r.stored);
    }
}

// SmoothQuant's factors of layer weights w's input groups from the session's statistics
// (QuantSettings::smooth): s_j = max|X_j|^alpha / max|W_j|^(1-alpha), each clamped to
// [1e-5, 1e5]; a channel no token reached (max |X_j| = 0) or with zero weights keeps s_j = 1.
// Only the groups after an RMSNorm are smoothed (q/k/v and gate/up: index 0 and 2), so that
// 1/s folds into the norm's weight exactly and an export is the plain model (llm-compressor's
// Llama mappings); o_proj's and down_proj's inputs are left undefined (not smoothed): their
// factors would have to fold into v_proj's and up_proj's rows, which changes those weights'
// quantization, and under grouped-query attention o_proj's channels share v_proj's rows.
std::array<at::Tensor, 4> smoothFactors(const DecoderModel& model, const Session& w, const LayerWeights& lw,
                                        double alpha)
{
    std::array<at::Tensor, 4> out;
    const std::array<int, 4> gs = model.layerGroups(lw.layer);
    for (int k : {0, 2}) {
        const int g = gs[size_t(k)];
        const std::string& name = model.groups()[size_t(g)];
        auto it = w.stats.find(name);
        if (it == w.stats.end() || it->second.pooled.max.empty())
            throw Error("SmoothQuant needs the calibration statistics of input group '" + name + "'");
        const std::vector<float>& lo = it->second.pooled.min;
        const std::vector<float>& hi = it->second.pooled.max;
        at::Tensor xmax = at::maximum(at::tensor(lo).abs(), at::tensor(hi).abs()).to(at::kDouble);
        at::Tensor wmax;
        for (int m : model.groupMembers(g)) {
            const at::Tensor a = lw.weight(m).abs().amax(0).to(at::kDouble);
            wmax = wmax.defined() ? at::maximum(wmax, a) : a;
        }
        at::Tensor s = xmax.pow(alpha) / wmax.pow(1.0 - alpha);
        s = at::where((xmax > 0) & (wmax > 0) & at::isfinite(s), s, at::ones_like(s)).clamp(1e-5, 1e5);
        out[size_t(k)] = s.to(at::kFloat).contiguous();
    }
    return out;
}

} // namespace

void buildPlanStreamed(Session& s, const DecoderModel& model, const CalibrationData& calib,
                       const QuantSettings& settingsIn, const ProgressSink& progress, const CancelToken* cancel,
                       const SampledCaptureObserver& onCapture, const StreamOptions& options,
                       std::vector<ModuleError>* errors, int errorBatches)
{
    PlanWorkingCopy copy(s);
    Session& w = copy.get();
    const QuantSettings settings = preparePlan(w, settingsIn); // throws without statistics
    const bool staticActs = settings.act == ActScheme::PerChannelStatic;
    const bool gptq = settings.gptq.enabled;
    const bool fpTarget = gptq && settings.gptq.fpTarget;
    // The batches stop at every group's input for MDQFO (static activations) and GPTQ.
    const bool clipSearch = (settings.act == ActScheme::PerTokenDynamic || isPerTensor(settings.act))
        && settings.actClipSearch > 0;
    const bool capture = staticActs || gptq || clipSearch;
    const bool smoothing = settings.smooth;
    // The encoders first (they feed the decoder): their groups planned, and the decoder's
    // captures then take the quantized encoders' features.
    std::unique_ptr<EncoderQuant> encoders;
    if (settings.quantizeEncoders)
        encoders = planEncoders(w, model, calib, settings, progress, cancel);
    if (!capture && !errors && !smoothing) {
        copy.commit();
        return;
    }
    c10::InferenceMode guard;
    // GPTQ replaces each layer's weights group by group as the pass goes; otherwise the weights
    // are rounded to nearest as they are read.
    // SmoothQuant: each layer's weights are smoothed (and then rounded) as the layer is read.
    // Deployable: each group's weights are quantized once its activation scales are known.
    const bool deployable = settings.mode == "deployable";
    const DecoderModel qmodel = gptq || smoothing || deployable ? model : quantizeWeights(model, settings.weight);
    const size_t n = model.groups().size();
    // The plan so far (static activations), or the plan's per-token quantizer (rtn).
    const std::vector<GroupQuant> fromStats = groupQuantFromStats(model, w);
    QuantSimHook prefix(settings, fromStats);

    // The quantized model's hidden states (what MDQFO and GPTQ work on), and with the GPTAQ-style
    // target the full-precision model's on the same batches.
    LayerwiseRun run(qmodel, options);
    std::unique_ptr<LayerwiseRun> fpCalib;
    if (fpTarget) {
        StreamOptions half = options;
        half.memBudget = options.memBudget / 2;
        fpCalib = std::make_unique<LayerwiseRun>(model, half);
    }
    // Under MPI each rank runs its block of the batches (dist.h): the row samples are gathered and
    // the Hessians summed per group, so every rank plans on what a single process would.
    const auto [firstBatch, lastBatch] = dist::share(calib.batches());
    if (capture) {
        for (size_t i = firstBatch; i < lastBatch; ++i) {
            checkCancel(cancel);
            const DecoderInput in =
                encoders ? calib.prepareQuantized(i, qmodel, *encoders) : calib.prepare(i, qmodel, nullptr, false);
            run.add(in);
            if (fpCalib)
                fpCalib->add(in);
        }
    }
    const auto [rowBase, rowTotal] = dist::rowOffset(run.rows());
    dist::faultPoint("plan");
    // The full-precision hidden states of the error sample, each layer measured once its plan is
    // complete (computeLayerErrorsStreamed in the same pass).
    LayerWeights wq;
    std::unique_ptr<LayerwiseRun> fpRun;
    std::unique_ptr<LayerErrorHook> errorHook;
    if (errors) {
        StreamOptions fpOptions = options;
        fpOptions.memBudget = std::max<int64_t>(0, options.memBudget - run.residentBytes()
                                                       - (fpCalib ? fpCalib->residentBytes() : 0));
        fpRun = std::make_unique<LayerwiseRun>(model, fpOptions);
        for (const DecoderInput& in : errorInputs(calib, model, errorBatches))
            fpRun->add(in);
        errorHook = std::make_unique<LayerErrorHook>(model, &prefix, [&wq](int i) { return wq.weight(i); });
    }
    // Each group input of a layer is computed once: the batches stop at the group's input
    // (LayerCursor), MDQFO plans the group on a row sample, GPTQ quantizes its Linears from
    // every row, and the batches go on from there.
    StreamOptions pendingOptions = options;
    EtaClock clock;
    const int L = qmodel.numLayers();
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        LayerWeights wfp;
        wq = LayerWeights();
        if (errors || fpTarget) {
            wfp = model.layerWeights(l);
            wq = qmodel.layerWeightsFrom(model, wfp); // one read of the layer
        } else {
            wq = qmodel.layerWeights(l);
        }
        const std::array<int, 4> gs = qmodel.layerGroups(l);
        if (smoothing) { // the factors from the full-precision weights, then the weights smoothed
            const std::array<at::Tensor, 4> sf = smoothFactors(model, w, wq, settings.smoothAlpha);
            for (int k = 0; k < 4; ++k) {
                const int g = gs[size_t(k)];
                const at::Tensor& f = sf[size_t(k)];
                if (f.defined()) {
                    GroupQuant gq = prefix.group(g);
                    gq.smooth = f;
                    setInputRange(gq); // the smoothed input's range (static per-tensor, NVFP4's global scale)
                    prefix.setGroup(g, gq);
                    w.plans[model.groups()[size_t(g)]].smooth.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
                }
                std::vector<at::Tensor> smoothed;
                for (int m : model.groupMembers(g)) {
                    at::Tensor& wm = wq.w[size_t(m - wq.firstModule)];
                    if (f.defined())
                        wm = wm * f.unsqueeze(0);
                    smoothed.push_back(wm);
                }
                const float nvgs = settings.weight.format == WeightFormat::NVFP4 ? nvfp4SharedGlobalScale(smoothed) : 0.f;
                for (int m : model.groupMembers(g)) {
                    at::Tensor& wm = wq.w[size_t(m - wq.firstModule)];
                    if (!gptq) {
                        try {
                            wm = fakeQuantWeight(wm, settings.weight, nvgs);
                        } catch (const InputError& e) {
                            throw InputError(model.modules()[size_t(m)].name + ": " + e.what());
                        }
                    }
                }
            }
        }
        if (capture) {
            pendingOptions.memBudget = std::max<int64_t>(0, options.memBudget - run.residentBytes()
                                                                - (fpCalib ? fpCalib->residentBytes() : 0));
            std::unique_ptr<StateStore> pending, fpPending;
            for (int k = 0; k < 4; ++k) {
                const int g = gs[size_t(k)];
                const std::string& name = model.groups()[size_t(g)];
                prefix.setActiveLimit(g);
                RowSampler cap(sampleStride(rowTotal, model.groupChannels(g), settings.mdqfo), model.groupChannels(g),
                               rowBase);
                std::function<void(const at::Tensor&)> sample;
                if (staticActs || clipSearch)
                    sample = [&cap](const at::Tensor& x) { cap.add(x); };
                pending = run.advanceStage(wq, k, pending.get(), &prefix, pendingOptions, cancel, sample);
                if (fpCalib) // the same stop in the full-precision model
                    fpPending = fpCalib->advanceStage(wfp, k, fpPending.get(), nullptr, pendingOptions, cancel);
                const at::Tensor sampled = staticActs || clipSearch ? cap.gatheredRows() : at::Tensor();
                if (staticActs) {
                    const at::Tensor x = sampled, alpha0 = cap.alpha0();
                    if (onCapture)
                        onCapture(g, x, alpha0);
                    prefix.setGroup(g, planGroup(w, name, x, alpha0, settings, cancel));
                    reportGroupPlan(progress, size_t(g), n, name, w);
                    if (deployable) { // W' = Q(W diag(s)) with s = alpha / qmax, used as W' diag(1/s)
                        const at::Tensor s = foldScales({prefix.group(g)}, settings.abits).front();
                        for (int m : model.groupMembers(g)) {
                            at::Tensor& wm = wq.w[size_t(m - wq.firstModule)];
                            try {
                                wm = foldQuantWeight(wm, s, settings.weight);
                            } catch (const InputError& e) {
                                throw InputError(model.modules()[size_t(m)].name + ": " + e.what());
                            }
                        }
                    }
                }
                if (clipSearch) { // this group's per-token clip ratio, from the row sample
                    at::Tensor gram;
                    for (int m : model.groupMembers(g)) {
                        const at::Tensor wm = wq.weight(m);
                        gram = gram.defined() ? gram + wm.t().matmul(wm) : wm.t().matmul(wm);
                    }
                    GroupQuant gq = prefix.group(g);
                    const at::Tensor rows = gq.smooth.defined() ? sampled / gq.smooth : sampled;
                    // (per-tensor dynamic: the row sample quantized as one tensor)
                    gq.tokenClip = searchClip(rows, gram, settings.actClipSearch,
                                              settings.actClipMorphology ? &settings.mdqfo : nullptr,
                                              [&](const at::Tensor& v, double c) {
                                                  return fakeQuantIntActivations(v, settings, gq, c);
                                              });
                    w.plans[name].tokenClip = gq.tokenClip;
                    prefix.setGroup(g, gq);
                }
                if (gptq) {
                    gptqGroup(w, model, g, settings, wq, run, *pending, fpPending.get(), prefix, cancel);
                    report(progress, "gptq", double(g + 1) / double(n), name);
                }
            }
            // The layer's outputs with all its groups quantized: the next layer's inputs.
            prefix.setActiveLimit(gs[3] + 1);
            run.finishLayer(wq, *pending, &prefix, cancel);
            if (fpCalib)
                fpCalib->finishLayer(wfp, *fpPending, nullptr, cancel);
        }
        if (errors) {
            prefix.setActiveLimit(gs[3] + 1);
            for (size_t i = 0; i < fpRun->batches(); ++i) {
                checkCancel(cancel);
                fpRun->step(i, wfp, errorHook.get(), true);
            }
            report(progress, "errors", double(l + 1) / double(L), layerText(l, L),
                   {{"tokens_per_s", double(errorHook->tokens()) / std::max(1e-9, clock.elapsedSeconds())}});
        }
    }
    if (errors) {
        checkCancel(cancel);
        *errors = errorHook->results();
    }
    copy.commit();
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
    LayerwiseRun run(fp, options);
    for (const DecoderInput& in : errorInputs(calib, fp, maxBatches)) {
        checkCancel(cancel);
        run.add(in);
    }
    EtaClock clock;
    const int L = fp.numLayers();
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        // The previous layer's weights go before this layer's arrive: one layer of each at a time.
        wfp = LayerWeights();
        wq = LayerWeights();
        wfp = fp.layerWeights(l);
        wq = q.model.layerWeightsFrom(fp, wfp);
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
    requirePredictedTokens(data);
    c10::InferenceMode guard;
    NllResult r;
    LayerwiseRun run(model, options);
    forEachEvalBatch(data, batchSize, cancel, [&](const at::Tensor& ids) {
        DecoderInput in;
        in.ids = ids;
        in.embeds = model.embed(ids);
        run.add(in);
    });
    EtaClock clock;
    const int L = model.numLayers();
    const double steps = double(L) + 1.0;
    // A small model's batches run side by side, one intra-op thread each (runtime.h): each
    // batch's arithmetic is that of a one-thread run, and the sums below keep the batch order.
    const int workers = batchWorkers(model, hook, run.batches());
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        const LayerWeights w = model.layerWeights(l);
        forEachParallel(run.batches(), workers, [&](size_t i) {
            checkCancel(cancel);
            run.step(i, w, hook, true);
        });
        report(progress, "eval", double(l + 1) / steps, layerText(l, L),
               {{"tokens_per_s", double(run.rows()) * (l + 1) / L / std::max(1e-9, clock.elapsedSeconds())}});
    }
    std::vector<NllSum> parts(run.batches());
    forEachLmHead(
        run.batches(), workers,
        [&](size_t i) {
            checkCancel(cancel);
            parts[i] = model.nextTokenNll(run.state(i), run.ids(i));
        },
        [&](size_t done) {
            report(progress, "eval", (double(L) + double(done) / double(run.batches())) / steps,
                   "lm_head " + std::to_string(done) + "/" + std::to_string(run.batches()),
                   {{"tokens_per_s", double(run.rows()) / std::max(1e-9, clock.elapsedSeconds())}});
        });
    double sum = 0.0;
    for (const NllSum& part : parts) {
        sum += part.nll;
        r.tokens += part.tokens;
    }
    dist::faultPoint("eval");
    sum = dist::sum(sum); // every rank's batches (dist.h)
    r.tokens = dist::sum(r.tokens);
    r.nll = r.tokens ? sum / double(r.tokens) : 0.0;
    r.ppl = std::exp(r.nll);
    if (!std::isfinite(r.nll))
        throwNonFinite(model, "the model's");
    return r;
}

namespace {

// The pair evaluation's layer-wise pass over batches `fill` adds to both runs (the same inputs).
EvalPair evaluatePairRuns(const DecoderModel& fp, const DecoderModel& q, ForwardHook* qHook,
                          const std::function<void(LayerwiseRun&, LayerwiseRun&)>& fill, const ProgressSink& progress,
                          const CancelToken* cancel, const StreamOptions& options)
{
    c10::InferenceMode guard;
    StreamOptions half = options;
    half.memBudget = options.memBudget / 2;
    LayerwiseRun runF(fp, half), runQ(q, half);
    fill(runF, runQ);
    EtaClock clock;
    const int L = fp.numLayers();
    const double steps = double(L) + 1.0;
    // A small model's batches side by side (as in evaluateStreamed).
    const int workers = batchWorkers(fp, qHook, runF.batches());
    for (int l = 0; l < L; ++l) {
        checkCancel(cancel);
        const LayerWeights wf = fp.layerWeights(l);
        // A quantized copy of fp transforms fp's weights (one read for both); a separate model
        // (an exported folder) reads its own.
        const LayerWeights wq = q.layerWeightsFrom(fp, wf);
        forEachParallel(runF.batches(), workers, [&](size_t i) {
            checkCancel(cancel);
            runF.step(i, wf, nullptr, true);
            runQ.step(i, wq, qHook, true);
        });
        report(progress, "eval", double(l + 1) / steps, layerText(l, L) + " (full precision and quantized)",
               {{"tokens_per_s", 2.0 * double(runF.rows()) * (l + 1) / L / std::max(1e-9, clock.elapsedSeconds())}});
    }
    EvalPair r;
    double nllF = 0, nllQ = 0, kl = 0;
    int64_t tokens = 0;
    std::array<double, kNumModalities> klM{};
    std::vector<NllPairSum> parts(runF.batches());
    forEachLmHead(
        runF.batches(), workers,
        [&](size_t i) {
            checkCancel(cancel);
            parts[i] = fp.nextTokenNllPair(runF.state(i), runQ.state(i), runF.ids(i), runF.tags(i));
        },
        [&](size_t done) {
            report(progress, "eval", (double(L) + double(done) / double(runF.batches())) / steps,
                   "lm_head " + std::to_string(done) + "/" + std::to_string(runF.batches()));
        });
    for (size_t i = 0; i < runF.batches(); ++i) {
        const NllPairSum& part = parts[i];
        nllF += part.ref.nll;
        nllQ += part.other.nll;
        kl += part.kl;
        tokens += part.ref.tokens;
        for (int m = 0; m < kNumModalities; ++m) {
            klM[size_t(m)] += part.klByModality[size_t(m)];
            r.tokensByModality[size_t(m)] += part.tokensByModality[size_t(m)];
        }
    }
    dist::faultPoint("eval");
    { // every rank's batches (dist.h): one reduction of all the sums
        std::vector<double> sums{nllF, nllQ, kl};
        sums.insert(sums.end(), klM.begin(), klM.end());
        dist::sum(sums);
        nllF = sums[0];
        nllQ = sums[1];
        kl = sums[2];
        std::copy(sums.begin() + 3, sums.end(), klM.begin());
        std::vector<int64_t> counts{tokens};
        counts.insert(counts.end(), r.tokensByModality.begin(), r.tokensByModality.end());
        dist::sum(counts);
        tokens = counts[0];
        std::copy(counts.begin() + 1, counts.end(), r.tokensByModality.begin());
    }
    auto result = [&](double nll) {
        NllResult n;
        n.tokens = tokens;
        n.nll = tokens ? nll / double(tokens) : 0.0;
        n.ppl = std::exp(n.nll);
        return n;
    };
    r.ref = result(nllF);
    r.quantized = result(nllQ);
    if (!std::isfinite(r.ref.nll))
        throwNonFinite(fp, "the full-precision model's");
    if (!std::isfinite(r.quantized.nll)) {
        throwIfNonFiniteWeight(q, "the quantized model's next-token log-likelihood is not finite");
        throw Error("the quantized model's next-token log-likelihood is not finite although the full-precision "
                    "model's is: its quantization produced NaN or Inf (a scale of zero? an overflowing activation?)");
    }
    r.kl = tokens ? kl / double(tokens) : 0.0;
    for (int m = 0; m < kNumModalities; ++m)
        if (r.tokensByModality[size_t(m)] > 0)
            r.klByModality[size_t(m)] = klM[size_t(m)] / double(r.tokensByModality[size_t(m)]);
    return r;
}

} // namespace

EvalPair evaluatePairStreamed(const DecoderModel& fp, const DecoderModel& q, ForwardHook* qHook,
                              const TokenDataset& data, int batchSize, const ProgressSink& progress,
                              const CancelToken* cancel, const StreamOptions& options)
{
    requirePredictedTokens(data);
    c10::InferenceMode guard;
    return evaluatePairRuns(
        fp, q, qHook,
        [&](LayerwiseRun& runF, LayerwiseRun& runQ) {
            forEachEvalBatch(data, batchSize, cancel, [&](const at::Tensor& ids) {
                DecoderInput in;
                in.ids = ids;
                in.embeds = fp.embed(ids);
                runF.add(in);
                runQ.add(in);
            });
        },
        progress, cancel, options);
}

EvalPair evaluatePairStreamed(const DecoderModel& fp, const DecoderModel& q, ForwardHook* qHook,
                              const CalibrationData& data, const ProgressSink& progress, const CancelToken* cancel,
                              const StreamOptions& options, const EncoderQuant* encoders)
{
    c10::InferenceMode guard;
    return evaluatePairRuns(
        fp, q, qHook,
        [&](LayerwiseRun& runF, LayerwiseRun& runQ) {
            const auto [first, last] = dist::share(data.batches());
            for (size_t i = first; i < last; ++i) {
                checkCancel(cancel);
                const DecoderInput in = data.prepare(i, fp, nullptr, false);
                if (!in.ids.defined() || in.ids.size(1) < 2)
                    continue; // nothing to predict
                runF.add(in);
                runQ.add(encoders ? data.prepareQuantized(i, fp, *encoders) : in);
                report(progress, "eval", 0.0, "inputs " + std::to_string(i + 1) + "/" + std::to_string(data.batches()));
            }
            if (dist::sum(int64_t(runF.batches())) == 0)
                throw InputError(data.source() + ": no sample has two positions or more: nothing to predict");
        },
        progress, cancel, options);
}

} // namespace mq::core
