#pragma once
// Token-id datasets: JSONL, one object per line with "input_ids": [int, ...] (other keys such
// as "text" are ignored). Blank lines are skipped.
#include <cstdint>
#include <string>
#include <vector>

namespace mq::core {

struct TokenDataset {
    std::string path;
    std::vector<std::vector<int64_t>> sequences;
    int64_t totalTokens() const;
};

// Throws InputError naming the file and line for malformed JSON, a missing or empty
// "input_ids", a non-integer id, or an id outside [0, vocabSize) when vocabSize > 0.
// maxTokens > 0: a longer sequence is refused, naming its line (a model's
// max_position_embeddings: past it the positions are outside what the model was trained on, and
// a very long line would end in an allocation failure).
TokenDataset loadTokenDataset(const std::string& path, int64_t vocabSize = 0, int64_t maxTokens = 0);

// Throws InputError naming the file when no sequence has two or more tokens: there is nothing to
// predict, and a perplexity "over 0 tokens" would read as perfect. Every evaluation checks it.
void requirePredictedTokens(const TokenDataset& data);

// Groups sequence indices into batches of equal length, keeping the dataset order.
std::vector<std::vector<size_t>> equalLengthBatches(const TokenDataset& data, int batchSize);
// The evaluations' batches: equalLengthBatches (batchSize below 1 counts as 1) without those of
// sequences too short to predict a token (fewer than 2).
std::vector<std::vector<size_t>> predictingBatches(const TokenDataset& data, int batchSize);

} // namespace mq::core
