#pragma once
// Mean next-token negative log-likelihood and perplexity over a token dataset.
#include "common/progress.h"
#include "io/token_data.h"
#include "model/decoder.h"

namespace mq::core {

struct NllResult {
    double nll = 0.0;   // mean nats per predicted token
    double ppl = 0.0;   // exp(nll)
    int64_t tokens = 0; // predicted tokens (sum of len - 1)
};

// Sequences of equal length are batched (up to batchSize) for speed; sums are kept in double.
// hook applies activation quantization for a quantized simulation (null: full precision).
NllResult evaluateNll(const DecoderModel& model, const TokenDataset& data, ForwardHook* hook = nullptr,
                      int batchSize = 8, const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

// [B, T] int64 tensor of the given sequences (all of the same length).
at::Tensor batchTensor(const TokenDataset& data, const std::vector<size_t>& idx);

} // namespace mq::core
