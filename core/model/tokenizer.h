#pragma once
// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json as Qwen2 / Qwen2.5 /
// Qwen2.5-Omni ship it. Plain std types only, so callers without libtorch (widgets, tools)
// can tokenize; turning ids into a tensor is the caller's business.
//
// Pipeline, matching the `tokenizers` crate for that file layout:
//   added tokens matched verbatim (leftmost, longest first) -> normalizer (NFC: input is
//   assumed to be NFC already, nothing is changed) -> Split(regex, Isolated) -> ByteLevel
//   (GPT-2 byte-to-unicode alphabet) -> BPE merges by rank within each pre-token.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mq::core {

class Tokenizer {
public:
    // Reads and validates `path`. Throws InputError naming the file and the offending key for
    // a missing file, bad JSON, a model that is not BPE, a merge naming an unknown token, a
    // regex PCRE2 rejects, or a normalizer / pre-tokenizer / decoder this class cannot honour.
    static Tokenizer fromFile(const std::string& path);
    // Same, from JSON text already in memory; `source` names it in error messages.
    static Tokenizer fromJsonText(const std::string& text, const std::string& source);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // UTF-8 text -> token ids. Added tokens (special or not) are recognised anywhere in the
    // text, as HF does by default. Throws InputError for text that is not valid UTF-8.
    // Thread-safe: the per-pre-token BPE cache is guarded by a mutex.
    std::vector<int64_t> encode(const std::string& text) const;
    // Ids -> bytes. Added tokens come out as their content; vocab tokens are mapped back
    // through the byte-level alphabet. The bytes are returned raw (no U+FFFD substitution), so
    // a slice of ids that cuts a multi-byte character yields a partial sequence. Throws
    // InputError for an id outside the vocabulary. Thread-safe.
    std::string decode(const std::vector<int64_t>& ids) const;

    // Id of a vocab or added token given in its stored form (e.g. "Ġthe", "<|im_end|>").
    // Throws InputError when absent.
    int64_t tokenId(const std::string& token) const;
    bool hasToken(const std::string& token) const;
    // Stored form of an id; throws InputError when out of range.
    std::string tokenString(int64_t id) const;
    bool isSpecial(int64_t id) const;
    // Largest id (vocab or added) + 1. For Qwen2.5 this is 151665, below the padded
    // embedding size (151936) in config.json.
    int64_t vocabSize() const;
    const std::string& source() const;

private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq::core
