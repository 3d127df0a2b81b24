#include "eval/layer_error.h"

#include "common/error.h"
#include "pipeline.h"

#include <algorithm>
#include <cmath>

namespace mq::core {

namespace {

// Columns of a module's accumulator: one row per modality, these columns.
enum Column { kSignal = 0, kNoise = 1, kCosine = 2, kTokens = 3, kColumns = 4 };

at::Tensor applyLinear(const DecoderModel& m, int module, const at::Tensor& x)
{
    const at::Tensor& b = m.linearBias(module);
    return b.defined() ? at::linear(x, m.linearWeight(module), b) : at::linear(x, m.linearWeight(module));
}

// Observes the full-precision forward: at each decoder group, every member's output through the
// plan is compared with its full-precision output; the input passes on unchanged.
class ErrorHook : public ForwardHook {
public:
    ErrorHook(const DecoderModel& fp, QuantizedModel& q) : m_fp(fp), m_q(q)
    {
        const int groups = int(fp.groups().size());
        for (int g = 0; g < groups; ++g)
            m_members.push_back(fp.groupMembers(g));
        m_acc.resize(fp.modules().size());
    }

    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        if (group < 0 || size_t(group) >= m_members.size())
            return x; // encoder towers stay in full precision: nothing to measure
        if (group == 0)
            m_tokens += x.size(0);
        const at::Tensor xq = m_q.hook->onLinearInput(group, x, modality);
        const at::Tensor index = modality.to(x.device(), at::kLong);
        for (int i : m_members[size_t(group)]) {
            const at::Tensor y = applyLinear(m_fp, i, x).to(at::kDouble);
            const at::Tensor yq = applyLinear(m_q.model, i, xq).to(at::kDouble);
            const at::Tensor diff = y - yq;
            const at::Tensor ny = (y * y).sum(1), nq = (yq * yq).sum(1), ne = (diff * diff).sum(1);
            const at::Tensor dot = (y * yq).sum(1);
            // sqrt(ny * nq) (not sqrt(ny) * sqrt(nq)) so identical rows give exactly 1; rows
            // with zero error count 1 even when both outputs are zero.
            at::Tensor cos = dot / (ny * nq).sqrt().clamp_min(1e-300);
            cos = at::where(ne == 0, at::ones_like(cos), cos);
            const at::Tensor cols = at::stack({ny, ne, cos, at::ones_like(cos)}, 1); // [rows, 4]
            at::Tensor& acc = m_acc[size_t(i)];
            if (!acc.defined())
                acc = at::zeros({kNumModalities, kColumns}, cols.options());
            acc.index_add_(0, index, cols);
        }
        return x;
    }

    // Sums of module i (all zero when no token reached it).
    std::array<ErrorSums, kNumModalities> sums(size_t i) const
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
    // Tokens seen so far (every decoder token passes group 0 once).
    int64_t tokens() const { return m_tokens; }

private:
    const DecoderModel& m_fp;
    QuantizedModel& m_q;
    std::vector<std::vector<int>> m_members;
    std::vector<at::Tensor> m_acc; // per module: [modalities, columns] float64
    int64_t m_tokens = 0;
};

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

std::vector<ModuleError> computeLayerErrors(const DecoderModel& fp, const Session& s, const CalibrationData& calib,
                                            int maxBatches, const ProgressSink& progress, const CancelToken* cancel)
{
    if (!s.settings)
        throw Error("layer errors need a quantization plan: quantize first");
    c10::InferenceMode guard;
    QuantizedModel q = makeQuantizedModel(fp, s);
    ErrorHook hook(fp, q);
    const size_t total = maxBatches > 0 ? std::min(calib.batches(), size_t(maxBatches)) : calib.batches();
    EtaClock clock;
    for (size_t b = 0; b < total; ++b) {
        if (cancel)
            cancel->check();
        calib.run(b, fp, &hook);
        reportBatch(progress, b + 1, total, double(hook.tokens()) / std::max(1e-9, clock.elapsedSeconds()));
    }
    if (cancel)
        cancel->check();

    std::vector<ModuleError> out;
    out.reserve(fp.modules().size());
    for (size_t i = 0; i < fp.modules().size(); ++i) {
        ModuleError me;
        me.module = fp.modules()[i].name;
        const std::array<ErrorSums, kNumModalities> sums = hook.sums(i);
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
        out.push_back(std::move(me));
    }
    return out;
}

} // namespace mq::core
