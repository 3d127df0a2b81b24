#include "eval/perplexity.h"

#include "common/error.h"

#include <cmath>

namespace mq::core {

at::Tensor batchTensor(const TokenDataset& data, const std::vector<size_t>& idx)
{
    const int64_t T = int64_t(data.sequences[idx.front()].size());
    at::Tensor ids = at::empty({int64_t(idx.size()), T}, at::TensorOptions().dtype(at::kLong));
    int64_t* p = ids.data_ptr<int64_t>();
    for (size_t b = 0; b < idx.size(); ++b)
        std::copy(data.sequences[idx[b]].begin(), data.sequences[idx[b]].end(), p + int64_t(b) * T);
    return ids;
}

NllResult evaluateNll(const DecoderModel& model, const TokenDataset& data, ForwardHook* hook, int batchSize,
                      const ProgressSink& progress, const CancelToken* cancel)
{
    requirePredictedTokens(data);
    c10::InferenceMode guard;
    NllResult r;
    double sum = 0.0;
    const auto batches = equalLengthBatches(data, std::max(1, batchSize));
    EtaClock clock;
    size_t done = 0;
    int64_t fed = 0; // tokens run through the model
    for (const auto& b : batches) {
        if (cancel)
            cancel->check();
        if (data.sequences[b.front()].size() < 2) {
            done += b.size();
            continue;
        }
        at::Tensor ids = batchTensor(data, b);
        at::Tensor logits = model.forward(ids, hook);
        const int64_t T = ids.size(1);
        at::Tensor logp = at::log_softmax(logits.narrow(1, 0, T - 1).to(at::kDouble), -1);
        at::Tensor target = ids.narrow(1, 1, T - 1).to(logp.device()).unsqueeze(-1);
        sum -= logp.gather(-1, target).sum().item<double>();
        r.tokens += int64_t(b.size()) * (T - 1);
        fed += ids.numel();
        done += b.size();
        report(progress, "eval", double(done) / double(data.sequences.size()),
               std::to_string(done) + "/" + std::to_string(data.sequences.size()) + " sequences",
               {{"tokens_per_s", double(fed) / std::max(1e-9, clock.elapsedSeconds())}});
    }
    r.nll = r.tokens ? sum / double(r.tokens) : 0.0;
    r.ppl = std::exp(r.nll);
    return r;
}

} // namespace mq::core
