#include "model/tokenizer.h"

#include "common/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <queue>
#include <sstream>
#include <unordered_map>

namespace mq::core {

namespace {

using nlohmann::json;

// GPT-2's pre-tokenizer, used when a ByteLevel step says use_regex: true.
const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Past this many distinct pre-tokens the cache is dropped rather than grown without bound on
// a long corpus; re-running BPE is cheap next to the memory.
constexpr size_t kMaxCacheEntries = 200000;

std::string utf8Encode(uint32_t cp)
{
    std::string out;
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
    return out;
}

// Strict UTF-8 check (no overlongs, surrogates or code points past U+10FFFF). Returns the
// byte offset of the first bad sequence, or npos. Doing it here lets PCRE2 skip its own check
// and gives the caller an offset to act on.
size_t firstInvalidUtf8(const std::string& s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n)
            return i;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return std::string::npos;
}

// Decodes one code point at s[i] (s is known-valid UTF-8) and advances i.
uint32_t nextCodePoint(const std::string& s, size_t& i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    return cp;
}

// GPT-2 bytes_to_unicode: bytes that are printable Latin-1 keep their code point, the other
// 68 are shifted to 256 + n in byte order, so every byte is a visible, non-space character.
struct ByteAlphabet {
    std::array<std::string, 256> symbol; // UTF-8 of the code point standing for each byte
    std::unordered_map<uint32_t, unsigned char> byteOf;

    ByteAlphabet()
    {
        uint32_t shifted = 0;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                (b >= 0xAE && b <= 0xFF);
            const uint32_t cp = printable ? b : 256 + shifted++;
            symbol[b] = utf8Encode(cp);
            byteOf[cp] = static_cast<unsigned char>(b);
        }
    }
};

const ByteAlphabet& byteAlphabet()
{
    static const ByteAlphabet alphabet;
    return alphabet;
}

struct Pcre2CodeDeleter {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct Pcre2MatchDataDeleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};
using Pcre2Code = std::unique_ptr<pcre2_code, Pcre2CodeDeleter>;
using Pcre2MatchData = std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter>;

std::string pcre2Message(int code)
{
    PCRE2_UCHAR buf[256];
    if (pcre2_get_error_message(code, buf, sizeof buf) < 0)
        return "PCRE2 error " + std::to_string(code);
    return reinterpret_cast<const char*>(buf);
}

struct AddedToken {
    std::string content;
    int64_t id = 0;
    bool special = false;
};

uint64_t pairKey(int64_t a, int64_t b)
{
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
}

} // namespace

struct Tokenizer::Impl {
    std::string source;
    std::unordered_map<std::string, int64_t> vocab;      // model.vocab and added tokens
    std::vector<std::string> idToToken;                  // stored form; empty for holes
    std::vector<std::string> idToBytes;                  // what decode emits per id
    std::vector<char> idKnown;
    std::vector<char> idSpecial;
    std::array<int64_t, 256> byteId{};                   // id of each byte's single symbol
    // (left id, right id) -> (rank, merged id). Ids fit 32 bits in any real vocabulary.
    std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> merges;
    bool ignoreMerges = false;
    // Longest first, so the first hit at a position is the longest match.
    std::vector<AddedToken> added;
    std::array<std::vector<size_t>, 256> addedByFirstByte;
    std::vector<Pcre2Code> splitters; // applied in order, each splitting every piece (Isolated)

    mutable std::mutex cacheMutex; // guards cache
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache;

    [[noreturn]] void fail(const std::string& key, const std::string& what) const
    {
        throw InputError(describe(source, "", key.empty() ? what : key + ": " + what));
    }

    void parse(const json& root);
    void parseModel(const json& model);
    void parseAddedTokens(const json& list);
    void parsePreTokenizer(const json& pre);
    void addSplitter(const std::string& pattern, bool literal, const std::string& key);
    void addId(int64_t id, const std::string& token, const std::string& key);

    std::vector<std::string> preTokenize(const std::string& piece) const;
    void bpe(const std::string& preToken, std::vector<int64_t>& out) const;
};

void Tokenizer::Impl::addId(int64_t id, const std::string& token, const std::string& key)
{
    // A cap keeps a corrupt id from allocating gigabytes; real vocabularies are ~150k.
    if (id < 0 || id > (int64_t(1) << 24))
        fail(key, "id " + std::to_string(id) + " for token '" + token +
                 "' is outside [0, 16777216]");
    if (static_cast<size_t>(id) >= idToToken.size()) {
        idToToken.resize(id + 1);
        idToBytes.resize(id + 1);
        idKnown.resize(id + 1, 0);
        idSpecial.resize(id + 1, 0);
    }
    if (idKnown[id] && idToToken[id] != token)
        fail(key, "id " + std::to_string(id) + " is given to both '" + idToToken[id] + "' and '" +
                 token + "'");
    idKnown[id] = 1;
    idToToken[id] = token;
}

void Tokenizer::Impl::parse(const json& root)
{
    if (!root.is_object())
        fail("", "expected a JSON object at the top level");

    // Qwen2 ships NFC. Implementing NFC would need ICU for a step that is a no-op on the
    // text we feed it, so the input is assumed to be NFC already; anything else is refused
    // rather than silently tokenized differently from HF.
    if (root.contains("normalizer") && !root["normalizer"].is_null()) {
        const json& n = root["normalizer"];
        const std::string type = n.is_object() ? n.value("type", std::string()) : std::string();
        if (type != "NFC")
            fail("normalizer", "expected null or {\"type\": \"NFC\"}, got " + n.dump());
    }

    if (!root.contains("model") || !root["model"].is_object())
        fail("model", "missing or not an object");
    parseModel(root["model"]);

    if (root.contains("added_tokens") && !root["added_tokens"].is_null())
        parseAddedTokens(root["added_tokens"]);

    if (!root.contains("pre_tokenizer") || root["pre_tokenizer"].is_null())
        fail("pre_tokenizer", "missing; a byte-level BPE needs a ByteLevel pre-tokenizer");
    parsePreTokenizer(root["pre_tokenizer"]);

    if (root.contains("decoder") && !root["decoder"].is_null()) {
        const json& d = root["decoder"];
        if (!d.is_object() || d.value("type", std::string()) != "ByteLevel")
            fail("decoder", "expected null or type ByteLevel, got " + d.dump());
    }

    // Decode bytes per id, once. Vocab tokens go back through the byte alphabet; a vocab
    // token with a character outside it would mean the file is not byte-level after all.
    const ByteAlphabet& alphabet = byteAlphabet();
    for (size_t id = 0; id < idToToken.size(); ++id) {
        if (!idKnown[id] || !idToBytes[id].empty())
            continue;
        const std::string& tok = idToToken[id];
        std::string bytes;
        size_t i = 0;
        while (i < tok.size()) {
            const uint32_t cp = nextCodePoint(tok, i);
            auto it = alphabet.byteOf.find(cp);
            if (it == alphabet.byteOf.end())
                fail("model.vocab", "token '" + tok + "' (id " + std::to_string(id) +
                         ") has a character outside the byte-level alphabet");
            bytes += static_cast<char>(it->second);
        }
        idToBytes[id] = bytes;
    }
}

void Tokenizer::Impl::parseModel(const json& model)
{
    if (!model.contains("type") || !model["type"].is_string())
        fail("model.type", "missing; expected \"BPE\"");
    if (model["type"] != "BPE")
        fail("model.type", "expected \"BPE\", got " + model["type"].dump());

    // Options that change the output and that Qwen2 leaves off; refuse rather than ignore.
    if (model.contains("dropout") && !model["dropout"].is_null() &&
        !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
        fail("model.dropout", "BPE dropout is not supported; expected null");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        if (model.contains(key) && !model[key].is_null() &&
            !(model[key].is_string() && model[key].get<std::string>().empty()))
            fail(std::string("model.") + key, "not supported; expected null or \"\"");
    }
    if (model.value("byte_fallback", false))
        fail("model.byte_fallback", "not supported for a byte-level BPE; expected false");
    ignoreMerges = model.value("ignore_merges", false);

    if (!model.contains("vocab") || !model["vocab"].is_object())
        fail("model.vocab", "missing or not an object of token -> id");
    for (const auto& [token, idJson] : model["vocab"].items()) {
        if (!idJson.is_number_integer())
            fail("model.vocab", "id of '" + token + "' is not an integer");
        const int64_t id = idJson.get<int64_t>();
        addId(id, token, "model.vocab");
        vocab[token] = id;
    }

    const ByteAlphabet& alphabet = byteAlphabet();
    for (int b = 0; b < 256; ++b) {
        auto it = vocab.find(alphabet.symbol[b]);
        if (it == vocab.end())
            fail("model.vocab", "missing the byte-level symbol '" + alphabet.symbol[b] +
                     "' for byte " + std::to_string(b) + "; every byte needs a token");
        byteId[b] = it->second;
    }

    if (!model.contains("merges") || !model["merges"].is_array())
        fail("model.merges", "missing or not an array");
    const json& list = model["merges"];
    for (size_t rank = 0; rank < list.size(); ++rank) {
        const json& m = list[rank];
        const std::string key = "model.merges[" + std::to_string(rank) + "]";
        std::string left, right;
        // Older files write "a b"; tokenizers >= 0.20 writes ["a", "b"] so tokens may hold
        // spaces. Byte-level tokens never do, so both read the same here.
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t sp = s.find(' ');
            if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                fail(key, "expected \"left right\" with exactly one space, got '" + s + "'");
            left = s.substr(0, sp);
            right = s.substr(sp + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            left = m[0].get<std::string>();
            right = m[1].get<std::string>();
        } else {
            fail(key, "expected \"left right\" or [\"left\", \"right\"], got " + m.dump());
        }
        auto l = vocab.find(left);
        auto r = vocab.find(right);
        auto merged = vocab.find(left + right);
        if (l == vocab.end())
            fail(key, "token '" + left + "' is not in model.vocab");
        if (r == vocab.end())
            fail(key, "token '" + right + "' is not in model.vocab");
        if (merged == vocab.end())
            fail(key, "merged token '" + left + right + "' is not in model.vocab");
        // A repeated pair keeps its first (lowest) rank; shipped files have no repeats.
        merges.emplace(pairKey(l->second, r->second),
                       std::make_pair(static_cast<int64_t>(rank), merged->second));
    }
}

void Tokenizer::Impl::parseAddedTokens(const json& list)
{
    if (!list.is_array())
        fail("added_tokens", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
        const json& t = list[i];
        const std::string key = "added_tokens[" + std::to_string(i) + "]";
        if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
            !t.contains("content") || !t["content"].is_string())
            fail(key, "expected an object with integer id and string content");
        AddedToken tok;
        tok.id = t["id"].get<int64_t>();
        tok.content = t["content"].get<std::string>();
        tok.special = t.value("special", false);
        if (tok.content.empty())
            fail(key, "content is empty");
        if (firstInvalidUtf8(tok.content) != std::string::npos)
            fail(key, "content is not valid UTF-8");
        // Qwen2 sets all three false; honouring them would change where text is cut.
        for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
            if (t.value(flag, false))
                fail(key + "." + flag, "true is not supported; expected false");
        }
        auto known = vocab.find(tok.content);
        if (known != vocab.end() && known->second != tok.id)
            fail(key, "content '" + tok.content + "' has id " + std::to_string(tok.id) +
                     " but model.vocab gives " + std::to_string(known->second));
        addId(tok.id, tok.content, key);
        vocab[tok.content] = tok.id;
        // Added tokens are emitted verbatim, not through the byte alphabet.
        idToBytes[tok.id] = tok.content;
        idSpecial[tok.id] = tok.special ? 1 : 0;
        added.push_back(tok);
    }
    std::stable_sort(added.begin(), added.end(), [](const AddedToken& a, const AddedToken& b) {
        return a.content.size() > b.content.size();
    });
    for (size_t i = 0; i < added.size(); ++i)
        addedByFirstByte[static_cast<unsigned char>(added[i].content[0])].push_back(i);
}

void Tokenizer::Impl::addSplitter(const std::string& pattern, bool literal, const std::string& key)
{
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    uint32_t flags = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     flags, &err, &errOffset, nullptr);
    if (!code)
        fail(key, "regex does not compile at offset " + std::to_string(errOffset) + ": " +
                 pcre2Message(err) + " (pattern '" + pattern + "')");
    // JIT is a speed-up only; the interpreter gives the same matches if it is unavailable.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    splitters.emplace_back(code);
}

void Tokenizer::Impl::parsePreTokenizer(const json& pre)
{
    if (!pre.is_object() || !pre.contains("type"))
        fail("pre_tokenizer", "expected an object with a type");
    std::vector<const json*> steps;
    std::vector<std::string> keys;
    if (pre["type"] == "Sequence") {
        if (!pre.contains("pretokenizers") || !pre["pretokenizers"].is_array())
            fail("pre_tokenizer.pretokenizers", "missing or not an array");
        for (size_t i = 0; i < pre["pretokenizers"].size(); ++i) {
            steps.push_back(&pre["pretokenizers"][i]);
            keys.push_back("pre_tokenizer.pretokenizers[" + std::to_string(i) + "]");
        }
    } else {
        steps.push_back(&pre);
        keys.push_back("pre_tokenizer");
    }

    bool byteLevelSeen = false;
    for (size_t i = 0; i < steps.size(); ++i) {
        const json& s = *steps[i];
        const std::string& key = keys[i];
        const std::string type = s.is_object() ? s.value("type", std::string()) : std::string();
        // Byte mapping must come last: a regex after it would see the remapped alphabet.
        if (byteLevelSeen)
            fail(key, "a step after ByteLevel is not supported");
        if (type == "Split") {
            if (!s.contains("pattern") || !s["pattern"].is_object())
                fail(key + ".pattern", "missing; expected {\"Regex\": ...} or {\"String\": ...}");
            const json& p = s["pattern"];
            if (p.contains("Regex") && p["Regex"].is_string())
                addSplitter(p["Regex"].get<std::string>(), false, key + ".pattern.Regex");
            else if (p.contains("String") && p["String"].is_string())
                addSplitter(p["String"].get<std::string>(), true, key + ".pattern.String");
            else
                fail(key + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
            if (s.value("behavior", std::string()) != "Isolated")
                fail(key + ".behavior", "expected \"Isolated\", got " +
                         (s.contains("behavior") ? s["behavior"].dump() : std::string("nothing")));
            if (s.value("invert", false))
                fail(key + ".invert", "true is not supported; expected false");
        } else if (type == "ByteLevel") {
            if (s.value("add_prefix_space", false))
                fail(key + ".add_prefix_space", "true is not supported; expected false");
            if (s.value("use_regex", true))
                addSplitter(kGpt2Pattern, false, key + ".use_regex");
            byteLevelSeen = true;
        } else {
            fail(key + ".type", "expected Split or ByteLevel, got " + s.dump());
        }
    }
    if (!byteLevelSeen)
        fail("pre_tokenizer", "no ByteLevel step; only byte-level BPE is supported");
}

std::vector<std::string> Tokenizer::Impl::preTokenize(const std::string& piece) const
{
    std::vector<std::string> pieces{piece};
    for (const Pcre2Code& re : splitters) {
        Pcre2MatchData md(pcre2_match_data_create_from_pattern(re.get(), nullptr));
        std::vector<std::string> next;
        for (const std::string& p : pieces) {
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(p.data());
            size_t pos = 0;      // end of the previous match
            size_t start = 0;    // where to search from
            while (start < p.size()) {
                // NOTEMPTY: an empty match would only add an empty piece, which HF drops.
                const int rc = pcre2_match(re.get(), subject, p.size(), start,
                                           PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY, md.get(), nullptr);
                if (rc == PCRE2_ERROR_NOMATCH)
                    break;
                if (rc < 0)
                    fail("pre_tokenizer", "regex match failed: " + pcre2Message(rc));
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
                if (ov[0] > pos)
                    next.push_back(p.substr(pos, ov[0] - pos)); // Isolated: gaps stay pieces
                next.push_back(p.substr(ov[0], ov[1] - ov[0]));
                pos = start = ov[1];
            }
            if (pos < p.size())
                next.push_back(p.substr(pos));
        }
        pieces = std::move(next);
    }
    return pieces;
}

void Tokenizer::Impl::bpe(const std::string& preToken, std::vector<int64_t>& out) const
{
    {
        std::lock_guard<std::mutex> lock(cacheMutex);
        auto it = cache.find(preToken);
        if (it != cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }

    std::vector<int64_t> syms;
    syms.reserve(preToken.size());
    for (char c : preToken)
        syms.push_back(byteId[static_cast<unsigned char>(c)]);

    bool whole = false;
    if (ignoreMerges && syms.size() > 1) {
        std::string mapped;
        for (char c : preToken)
            mapped += byteAlphabet().symbol[static_cast<unsigned char>(c)];
        auto it = vocab.find(mapped);
        if (it != vocab.end()) {
            syms.assign(1, it->second);
            whole = true;
        }
    }

    // Lowest rank first, leftmost on ties, one merge at a time: the order HF's priority queue
    // produces. A heap over a linked list keeps a long whitespace run (one pre-token) at
    // O(n log n) instead of rescanning every pair after each merge.
    if (!whole && syms.size() > 1) {
        struct Candidate {
            int64_t rank;
            size_t pos;
            int64_t left, right, merged;
            bool operator>(const Candidate& o) const
            {
                return rank != o.rank ? rank > o.rank : pos > o.pos;
            }
        };
        const size_t n = syms.size();
        constexpr size_t kNone = std::numeric_limits<size_t>::max();
        std::vector<size_t> prev(n), next(n);
        std::vector<char> alive(n, 1);
        for (size_t i = 0; i < n; ++i) {
            prev[i] = i == 0 ? kNone : i - 1;
            next[i] = i + 1 == n ? kNone : i + 1;
        }
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
        auto push = [&](size_t pos) {
            if (pos == kNone || next[pos] == kNone)
                return;
            auto it = merges.find(pairKey(syms[pos], syms[next[pos]]));
            if (it != merges.end())
                heap.push({it->second.first, pos, syms[pos], syms[next[pos]], it->second.second});
        };
        for (size_t i = 0; i + 1 < n; ++i)
            push(i);
        while (!heap.empty()) {
            const Candidate c = heap.top();
            heap.pop();
            // Stale: one side was merged away or changed since this pair was queued.
            if (!alive[c.pos] || next[c.pos] == kNone || syms[c.pos] != c.left ||
                syms[next[c.pos]] != c.right)
                continue;
            const size_t gone = next[c.pos];
            syms[c.pos] = c.merged;
            alive[gone] = 0;
            next[c.pos] = next[gone];
            if (next[gone] != kNone)
                prev[next[gone]] = c.pos;
            push(prev[c.pos]);
            push(c.pos);
        }
        std::vector<int64_t> merged;
        for (size_t i = 0; i != kNone; i = next[i])
            merged.push_back(syms[i]);
        syms = std::move(merged);
    }

    out.insert(out.end(), syms.begin(), syms.end());
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (cache.size() >= kMaxCacheEntries)
        cache.clear();
    cache.emplace(preToken, std::move(syms));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::fromFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(describe(path, "", "cannot open tokenizer file"));
    std::ostringstream ss;
    ss << in.rdbuf();
    return fromJsonText(ss.str(), path);
}

Tokenizer Tokenizer::fromJsonText(const std::string& text, const std::string& source)
{
    auto impl = std::make_unique<Impl>();
    impl->source = source;
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number past double's range
        throw InputError(describe(source, "", std::string("invalid JSON: ") + e.what()));
    }
    try {
        impl->parse(root);
    } catch (const json::exception& e) {
        // A value of the wrong JSON type somewhere our explicit checks did not look.
        throw InputError(describe(source, "", std::string("unexpected JSON layout: ") + e.what()));
    }
    return Tokenizer(std::move(impl));
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const
{
    const Impl& d = *m_impl;
    const size_t bad = firstInvalidUtf8(text);
    if (bad != std::string::npos)
        throw InputError(describe(d.source, "", "encode: text is not valid UTF-8 at byte " +
                                                    std::to_string(bad)));

    std::vector<int64_t> ids;
    auto encodePlain = [&](size_t from, size_t to) {
        if (from >= to)
            return;
        for (const std::string& pre : d.preTokenize(text.substr(from, to - from)))
            d.bpe(pre, ids);
    };

    size_t plainStart = 0;
    size_t i = 0;
    while (i < text.size()) {
        const AddedToken* hit = nullptr;
        for (size_t idx : d.addedByFirstByte[static_cast<unsigned char>(text[i])]) {
            const AddedToken& t = d.added[idx];
            if (text.compare(i, t.content.size(), t.content) == 0) {
                hit = &t;
                break;
            }
        }
        if (!hit) {
            ++i;
            continue;
        }
        encodePlain(plainStart, i);
        ids.push_back(hit->id);
        i += hit->content.size();
        plainStart = i;
    }
    encodePlain(plainStart, text.size());
    return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const
{
    const Impl& d = *m_impl;
    std::string out;
    for (int64_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= d.idToToken.size() || !d.idKnown[id])
            throw InputError(describe(d.source, "", "decode: id " + std::to_string(id) +
                                                        " is not in the vocabulary"));
        out += d.idToBytes[id];
    }
    return out;
}

int64_t Tokenizer::tokenId(const std::string& token) const
{
    auto it = m_impl->vocab.find(token);
    if (it == m_impl->vocab.end())
        throw InputError(
            describe(m_impl->source, "", "token '" + token + "' is not in the vocabulary"));
    return it->second;
}

bool Tokenizer::hasToken(const std::string& token) const
{
    return m_impl->vocab.count(token) != 0;
}

std::string Tokenizer::tokenString(int64_t id) const
{
    const Impl& d = *m_impl;
    if (id < 0 || static_cast<size_t>(id) >= d.idToToken.size() || !d.idKnown[id])
        throw InputError(describe(d.source, "", "id " + std::to_string(id) +
                                                    " is not in the vocabulary"));
    return d.idToToken[id];
}

bool Tokenizer::isSpecial(int64_t id) const
{
    const Impl& d = *m_impl;
    return id >= 0 && static_cast<size_t>(id) < d.idSpecial.size() && d.idSpecial[id];
}

int64_t Tokenizer::vocabSize() const
{
    return static_cast<int64_t>(m_impl->idToToken.size());
}

const std::string& Tokenizer::source() const
{
    return m_impl->source;
}

} // namespace mq::core
