#include "eval/layer_error.h"

#include "common/error.h"
#include "common/vector_clones.h"
#include "pipeline.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace mq::core {

namespace {

// Columns of a module's accumulator: one row per modality, these columns.
enum Column { kSignal = 0, kNoise = 1, kCosine = 2, kTokens = 3, kColumns = 4 };

// Row sums of y [rows, n] and yq in float64: out[r] = {sum y^2, sum (y - yq)^2, sum y yq,
// sum yq^2}, each product and difference in float64, accumulated in 8 lanes (which vectorize)
// and then added up.
MQ_VECTOR_CLONES
void errorRowSums(const float* y, const float* yq, int64_t n, double* out)
{
    constexpr int kLanes = 8;
    double sy[kLanes] = {}, se[kLanes] = {}, sd[kLanes] = {}, sq[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) {
            const double a = y[i + j], b = yq[i + j], d = a - b;
            sy[j] += a * a;
            se[j] += d * d;
            sd[j] += a * b;
            sq[j] += b * b;
        }
    for (int j = 1; j < kLanes; ++j)
        sy[0] += sy[j], se[0] += se[j], sd[0] += sd[j], sq[0] += sq[j];
    for (; i < n; ++i) {
        const double a = y[i], b = yq[i], d = a - b;
        sy[0] += a * a;
        se[0] += d * d;
        sd[0] += a * b;
        sq[0] += b * b;
    }
    out[0] = sy[0];
    out[1] = se[0];
    out[2] = sd[0];
    out[3] = sq[0];
}

at::Tensor applyLinear(const at::Tensor& w, const at::Tensor& b, const at::Tensor& x)
{
    return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

} // namespace

LayerErrorHook::LayerErrorHook(const DecoderModel& fp, ForwardHook* quantHook, WeightOf qWeight)
    : m_fp(fp), m_quantHook(quantHook), m_qWeight(std::move(qWeight))
{
    const int groups = int(fp.groups().size());
    for (int g = 0; g < groups; ++g)
        m_members.push_back(fp.groupMembers(g));
    m_acc.resize(fp.modules().size());
}

at::Tensor LayerErrorHook::onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality)
{
    m_pendingGroup = -1;
    if (group < 0 || size_t(group) >= m_members.size())
        return x; // encoder towers stay in full precision: nothing to measure
    if (group == 0)
        m_tokens += x.size(0);
    // The group's members then run on x in the forward; onLinearOutput compares each output
    // with the member's output through the plan.
    m_pendingGroup = group;
    m_x = x;
    m_xq = m_quantHook->onLinearInput(group, x, modality);
    m_index = modality.to(x.device(), at::kLong);
    return x;
}

void LayerErrorHook::onLinearOutput(int module, const at::Tensor& input, const at::Tensor& yIn)
{
    if (m_pendingGroup < 0 || !input.is_same(m_x))
        return;
    const auto& members = m_members[size_t(m_pendingGroup)];
    if (std::find(members.begin(), members.end(), module) == members.end())
        return;
    accumulate(module, yIn, applyLinear(m_qWeight(module), m_fp.linearBias(module), m_xq));
}

void LayerErrorHook::accumulate(int i, const at::Tensor& y, const at::Tensor& yq)
{
    // Outputs stay float32 (a 7B gate_proj output of 2048 tokens is 155 MB, 310 MB in float64);
    // the per-token sums are taken in one pass over both in float64 (errorRowSums; five
    // temporaries and four reductions before, a third of a second per 7B layer).
    at::Tensor ny, ne, dot, nq;
    if (y.is_cpu() && yq.is_cpu() && y.dim() == 2 && y.sizes() == yq.sizes()) {
        const at::Tensor a = y.to(at::kFloat).contiguous(), b = yq.to(at::kFloat).contiguous();
        const int64_t rows = a.size(0), n = a.size(1);
        at::Tensor sums = at::empty({rows, 4}, at::TensorOptions().dtype(at::kDouble));
        const float* pa = a.data_ptr<float>();
        const float* pb = b.data_ptr<float>();
        double* ps = sums.data_ptr<double>();
        at::parallel_for(0, rows, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, n)),
                         [&](int64_t r0, int64_t r1) {
                             for (int64_t r = r0; r < r1; ++r)
                                 errorRowSums(pa + r * n, pb + r * n, n, ps + r * 4);
                         });
        ny = sums.select(1, 0), ne = sums.select(1, 1), dot = sums.select(1, 2), nq = sums.select(1, 3);
    } else { // elsewhere (on the GPU)
        const at::Tensor diff = y - yq;
        ny = (y * y).sum(1, false, at::kDouble), nq = (yq * yq).sum(1, false, at::kDouble);
        ne = (diff * diff).sum(1, false, at::kDouble), dot = (y * yq).sum(1, false, at::kDouble);
    }
    // sqrt(ny * nq) (not sqrt(ny) * sqrt(nq)) so identical rows give exactly 1; rows
    // with zero error count 1 even when both outputs are zero.
    at::Tensor cos = dot / (ny * nq).sqrt().clamp_min(1e-300);
    cos = at::where(ne == 0, at::ones_like(cos), cos);
    const at::Tensor cols = at::stack({ny, ne, cos, at::ones_like(cos)}, 1); // [rows, 4]
    at::Tensor& acc = m_acc[size_t(i)];
    if (!acc.defined())
        acc = at::zeros({kNumModalities, kColumns}, cols.options());
    acc.index_add_(0, m_index, cols);
}

std::array<ErrorSums, kNumModalities> LayerErrorHook::sums(size_t i) const
{
        std::array<ErrorSums, kNumModalities> out{};
        if (!m_acc[i].defined())
            return out;
        const at::Tensor a = m_acc[i].to(at::kCPU).contiguous();
        const double* p = a.data_ptr<double>();
        for (int m = 0; m < kNumModalities; ++m) {
            const double* row = p + m * kColumns;
            out[size_t(m)] = {row[kSignal], row[kNoise], row[kCosine], int64_t(std::llround(row[kTokens]))};
        }
        return out;
}

std::vector<ModuleError> LayerErrorHook::results() const
{
    std::vector<ModuleError> out;
    out.reserve(m_fp.modules().size());
    for (size_t i = 0; i < m_fp.modules().size(); ++i)
        out.push_back(moduleError(m_fp.modules()[i].name, sums(i)));
    return out;
}

ModuleError moduleError(const std::string& module, const std::array<ErrorSums, kNumModalities>& sums)
{
    ModuleError me;
    me.module = module;
    ErrorSums pooled;
    for (int m = 0; m < kNumModalities; ++m) {
        const ErrorSums& e = sums[size_t(m)];
        me.perModality[size_t(m)] = errorStat(e);
        pooled.signal += e.signal;
        pooled.noise += e.noise;
        pooled.cosine += e.cosine;
        pooled.tokens += e.tokens;
    }
    me.pooled = errorStat(pooled);
    return me;
}

namespace {

void reportBatch(const ProgressSink& sink, size_t done, size_t total, double tokensPerSecond)
{
    report(sink, "errors", double(done) / double(std::max<size_t>(1, total)),
           "batch " + std::to_string(done) + "/" + std::to_string(total), {{"tokens_per_s", tokensPerSecond}});
}

} // namespace

ErrorStat errorStat(const ErrorSums& s)
{
    if (s.tokens <= 0)
        return ErrorStat{};
    ErrorStat e;
    e.tokens = s.tokens;
    double db = 0.0;
    if (s.noise <= 0.0)
        db = kSqnrClampDb;
    else if (s.signal <= 0.0)
        db = -kSqnrClampDb;
    else
        db = 10.0 * std::log10(s.signal / s.noise);
    e.sqnrDb = std::clamp(db, -kSqnrClampDb, kSqnrClampDb);
    e.cosine = s.cosine / double(s.tokens);
    return e;
}

std::vector<DecoderInput> errorInputs(const CalibrationData& calib, const DecoderModel& model, int maxBatches,
                                      int64_t maxElements)
{
    const size_t total = maxBatches > 0 ? std::min(calib.batches(), size_t(maxBatches)) : calib.batches();
    const int64_t hidden = model.config().hiddenSize;
    std::vector<DecoderInput> out;
    int64_t elements = 0;
    for (size_t b = 0; b < total; ++b) {
        DecoderInput in = calib.prepare(b, model, nullptr, false);
        const int64_t B = in.embeds.size(0), T = in.embeds.size(1);
        int64_t keep = B;
        if (maxElements > 0) {
            const int64_t room = (maxElements - elements) / std::max<int64_t>(1, T * hidden);
            keep = std::min(B, std::max<int64_t>(out.empty() ? 1 : 0, room));
        }
        if (keep <= 0)
            break;
        if (keep < B) {
            in.embeds = in.embeds.narrow(0, 0, keep);
            if (in.modality.defined())
                in.modality = in.modality.narrow(0, 0, keep);
            if (in.positions.defined())
                in.positions = in.positions.narrow(in.positions.dim() == 3 ? 1 : 0, 0, keep);
            if (in.ids.defined())
                in.ids = in.ids.narrow(0, 0, keep);
        }
        elements += keep * T * hidden;
        out.push_back(std::move(in));
        if (keep < B)
            break;
    }
    return out;
}

std::vector<ModuleError> computeLayerErrors(const DecoderModel& fp, const Session& s, const CalibrationData& calib,
                                            int maxBatches, const ProgressSink& progress, const CancelToken* cancel)
{
    if (!s.settings)
        throw Error("layer errors need a quantization plan: quantize first");
    c10::InferenceMode guard;
    QuantizedModel q = makeQuantizedModel(fp, s);
    LayerErrorHook hook(fp, q.hook.get(), [&q](int i) { return q.model.linearWeight(i); });
    const std::vector<DecoderInput> inputs = errorInputs(calib, fp, maxBatches);
    EtaClock clock;
    for (size_t b = 0; b < inputs.size(); ++b) {
        if (cancel)
            cancel->check();
        fp.forwardEmbeds(inputs[b].embeds, &hook, inputs[b].modality, inputs[b].positions);
        reportBatch(progress, b + 1, inputs.size(), double(hook.tokens()) / std::max(1e-9, clock.elapsedSeconds()));
    }
    if (cancel)
        cancel->check();

    return hook.results();
}

} // namespace mq::core
