#include "io/token_data.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace mq::core {

int64_t TokenDataset::totalTokens() const
{
    int64_t n = 0;
    for (const auto& s : sequences)
        n += int64_t(s.size());
    return n;
}

TokenDataset loadTokenDataset(const std::string& path, int64_t vocabSize, int64_t maxTokens)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw InputError(describe(path, "", std::string("cannot open token data: ") + std::strerror(err)));
    }
    TokenDataset ds;
    ds.path = path;
    std::string line;
    int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        auto fail = [&](const std::string& what) {
            return InputError(describe(path, "", "line " + std::to_string(lineNo) + ": " + what));
        };
        if (line.find_first_not_of(" \t\r\n") == std::string::npos)
            continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw fail(std::string("not valid JSON: ") + e.what());
        }
        if (!j.is_object())
            throw fail("expected a JSON object with \"input_ids\", got " + std::string(j.type_name()));
        auto ids = j.find("input_ids");
        if (ids == j.end())
            throw fail("missing \"input_ids\"");
        if (!ids->is_array() || ids->empty())
            throw fail("\"input_ids\" must be a non-empty array of integers");
        if (maxTokens > 0 && int64_t(ids->size()) > maxTokens)
            throw fail(std::to_string(ids->size()) + " tokens, past the model's max_position_embeddings ("
                       + std::to_string(maxTokens) + "); split the sequence");
        std::vector<int64_t> seq;
        seq.reserve(ids->size());
        for (size_t i = 0; i < ids->size(); ++i) {
            const auto& v = (*ids)[i];
            const std::string where = "input_ids[" + std::to_string(i) + "] = " + v.dump();
            if (!v.is_number_integer()
                || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
                throw fail(where + " is not an integer token id");
            const int64_t id = v.get<int64_t>();
            if (vocabSize > 0 && (id < 0 || id >= vocabSize))
                throw fail(where + " is outside the vocabulary [0, " + std::to_string(vocabSize) + ")");
            seq.push_back(id);
        }
        ds.sequences.push_back(std::move(seq));
    }
    if (in.bad())
        throw InputError(describe(path, "", "read error after line " + std::to_string(lineNo)));
    // An empty set would only surface later as a division by zero in calibration or eval.
    if (ds.sequences.empty())
        throw InputError(describe(path, "", "no sequences (expected JSONL lines with \"input_ids\")"));
    return ds;
}

std::vector<std::vector<size_t>> equalLengthBatches(const TokenDataset& data, int batchSize)
{
    std::vector<std::vector<size_t>> out;
    for (size_t i = 0; i < data.sequences.size(); ++i) {
        if (out.empty() || int(out.back().size()) >= batchSize
            || data.sequences[out.back().front()].size() != data.sequences[i].size())
            out.emplace_back();
        out.back().push_back(i);
    }
    return out;
}

std::vector<std::vector<size_t>> predictingBatches(const TokenDataset& data, int batchSize)
{
    std::vector<std::vector<size_t>> batches;
    for (auto& b : equalLengthBatches(data, std::max(1, batchSize)))
        if (data.sequences[b.front()].size() >= 2)
            batches.push_back(std::move(b));
    return batches;
}

void requirePredictedTokens(const TokenDataset& data)
{
    for (const auto& seq : data.sequences)
        if (seq.size() >= 2)
            return;
    throw InputError(data.path + ": no sequence has two or more tokens, so there is no next token to predict ("
                     + std::to_string(data.sequences.size()) + " sequences)");
}

} // namespace mq::core
