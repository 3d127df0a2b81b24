// Byte-level BPE tokenizer against a hand-made Qwen2-layout tokenizer.json
// (tests/data/tokenizer/tiny_qwen2_tokenizer.json) and hand-made bad files.
//
// The tiny vocabulary: byte b's GPT-2 symbol has id b (so 'a' = 97, ' ' = 'Ġ' = 32,
// '\n' = 'Ċ' = 10, '\t' = 'ĉ' = 9, 0xAD = 'Ń' = 173), then one id per merge, in rank order:
//   rank 0 "Ġ t"->256  1 "h e"->257  2 "Ġt he"->258  3 "i n"->259  4 "o n"->260
//        5 "e r"->261  6 "l l"->262  7 "Ã ©"->263 (é)  8 "' t"->264  9 "n e"->265
//       10 "Ċ Ċ"->266 11 "2 0"->267 12 "Ġ Ġ"->268 13 "ä ¸"->269 (first two bytes of 中)
// and added tokens <|endoftext|> 270, <|im_start|> 271, <|im_end|> 272, <|AUDIO|> 273,
// <|audio_bos|> 274, <|audio_eos|> 275, <|IMAGE|> 276, <|VIDEO|> 277, <|vision_bos|> 278,
// <|vision_eos|> 279.
#include "common/error.h"
#include "model/tokenizer.h"
#include "test_util.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <optional>
#include <thread>

using namespace mq::core;
using nlohmann::json;
using Ids = std::vector<int64_t>;

Q_DECLARE_METATYPE(Ids)
Q_DECLARE_METATYPE(std::string)

namespace {

std::string tinyPath()
{
    return std::string(MQ_TEST_DATA_DIR) + "/tokenizer/tiny_qwen2_tokenizer.json";
}

json tinyJson()
{
    std::ifstream in(tinyPath());
    return json::parse(in);
}

QString show(const Ids& ids)
{
    QStringList parts;
    for (int64_t id : ids)
        parts << QString::number(id);
    return "[" + parts.join(", ") + "]";
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void encode_data();
    void encode();
    void mergeFormats();
    void longestAddedTokenWins();
    void lookups();
    void decodeRawBytes();
    void invalidUtf8();
    void concurrentEncode();
    void missingFile();
    void errors_data();
    void errors();

private:
    std::optional<Tokenizer> m_tok;
};

void TestTokenizer::initTestCase()
{
    m_tok.emplace(Tokenizer::fromFile(tinyPath()));
}

void TestTokenizer::encode_data()
{
    QTest::addColumn<std::string>("text");
    QTest::addColumn<Ids>("expected");

    // t h e: only (h,e) r1 applies -> t he.
    QTest::newRow("the") << std::string("the") << Ids{116, 257};
    // Ġ t h e: (Ġ,t) r0 -> Ġt h e; (h,e) r1 -> Ġt he; (Ġt,he) r2 -> Ġthe.
    QTest::newRow("space the") << std::string(" the") << Ids{258};
    // Regex: "the" | " the".
    QTest::newRow("the the") << std::string("the the") << Ids{116, 257, 258};
    // "in" | " the" | " inner"; Ġ i n n e r: (i,n) r3 beats (e,r) r5 and (n,e) r9, then
    // (e,r) r5 beats (n,e) r9 -> Ġ in n er.
    QTest::newRow("inner") << std::string("in the inner") << Ids{259, 258, 32, 259, 110, 261};
    // Two spaces before a letter: \s+(?!\S) takes the first, " b" takes the second.
    QTest::newRow("double space") << std::string("a  b") << Ids{97, 32, 32, 98};
    // Trailing spaces stay one pre-token, so (Ġ,Ġ) r12 applies.
    QTest::newRow("trailing spaces") << std::string("hi  ") << Ids{104, 105, 268};
    // \s*[\r\n]+ keeps the newlines together; (Ċ,Ċ) r10.
    QTest::newRow("newlines") << std::string("a\n\nb") << Ids{97, 266, 98};
    QTest::newRow("space newline") << std::string("a \nb") << Ids{97, 32, 10, 98};
    // \p{N} takes one digit per pre-token, so the (2,0) r11 merge never fires.
    QTest::newRow("digits") << std::string("x 2024") << Ids{120, 32, 50, 48, 50, 52};
    // "don" -> d on (r4); "'t" is a contraction pre-token -> 't (r8).
    QTest::newRow("contraction") << std::string("don't") << Ids{100, 260, 264};
    // (?i:) makes "'T" a contraction too; no uppercase merges exist.
    QTest::newRow("contraction upper") << std::string("DON'T") << Ids{68, 79, 78, 39, 84};
    // h Ã © l l o: (l,l) r6 before (Ã,©) r7 -> h é ll o.
    QTest::newRow("latin accent") << std::string("h\xC3\xA9llo") << Ids{104, 263, 262, 111};
    // 中 = E4 B8 AD -> ä ¸ Ń; (ä,¸) r13; 0xAD is a shifted byte symbol, id 173.
    QTest::newRow("cjk") << std::string("\xE4\xB8\xAD") << Ids{269, 173};
    // [^\r\n\p{L}\p{N}]?\p{L}+ glues the space to the CJK letter.
    QTest::newRow("space cjk") << std::string(" \xE4\xB8\xAD") << Ids{32, 269, 173};
    // Added token cut out before the regex runs.
    QTest::newRow("image mid text") << std::string("a<|IMAGE|>b") << Ids{97, 276, 98};
    // "user" -> u s er (r5); "\n"; "hi".
    QTest::newRow("chat turn") << std::string("<|im_start|>user\nhi<|im_end|>\n")
                               << Ids{271, 117, 115, 261, 10, 104, 105, 272, 10};
    QTest::newRow("adjacent specials")
        << std::string("<|endoftext|><|endoftext|>") << Ids{270, 270};
    QTest::newRow("audio video")
        << std::string("<|audio_bos|><|AUDIO|><|audio_eos|><|vision_bos|><|VIDEO|><|vision_eos|>")
        << Ids{274, 273, 275, 278, 277, 279};
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*` takes punctuation with its newline.
    QTest::newRow("punctuation") << std::string("hi!!\n") << Ids{104, 105, 33, 33, 10};
    // A tab is neither \r\n nor a letter, so it prefixes the word; its symbol ĉ has id 9.
    QTest::newRow("tab") << std::string("a\tb") << Ids{97, 9, 98};
    // An unterminated special is plain text: "<|" | "IMAGE".
    QTest::newRow("partial special") << std::string("<|IMAGE") << Ids{60, 124, 73, 77, 65, 71, 69};
    QTest::newRow("empty") << std::string() << Ids{};
}

void TestTokenizer::encode()
{
    QFETCH(std::string, text);
    QFETCH(Ids, expected);
    const Ids got = m_tok->encode(text);
    QVERIFY2(got == expected, qPrintable(show(got) + " != " + show(expected)));
    // Second call goes through the pre-token cache and must agree.
    QVERIFY(m_tok->encode(text) == expected);
    QCOMPARE(m_tok->decode(got), text);
}

void TestTokenizer::mergeFormats()
{
    // tokenizers >= 0.20 writes merges as pairs; the result must be identical.
    json j = tinyJson();
    json pairs = json::array();
    for (const auto& m : j["model"]["merges"]) {
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ');
        pairs.push_back(json::array({s.substr(0, sp), s.substr(sp + 1)}));
    }
    j["model"]["merges"] = pairs;
    const Tokenizer t = Tokenizer::fromJsonText(j.dump(), "pairs.json");
    for (const char* s : {"in the inner", "h\xC3\xA9llo", "don't", "a\n\nb"})
        QVERIFY2(t.encode(s) == m_tok->encode(s), s);
}

void TestTokenizer::longestAddedTokenWins()
{
    json j = tinyJson();
    // Listed shortest first so the order in the file cannot be what decides.
    j["added_tokens"].push_back({{"id", 280}, {"content", "<a>"}, {"special", false}});
    j["added_tokens"].push_back({{"id", 281}, {"content", "<a>b"}, {"special", false}});
    const Tokenizer t = Tokenizer::fromJsonText(j.dump(), "longest.json");
    // "<a>b" | "c"; then "<a>" | "c" (c = 99).
    QVERIFY(t.encode("<a>bc") == (Ids{281, 99}));
    QVERIFY(t.encode("<a>c") == (Ids{280, 99}));
    QVERIFY(!t.isSpecial(281));
    QCOMPARE(t.vocabSize(), int64_t(282));
}

void TestTokenizer::lookups()
{
    QCOMPARE(m_tok->vocabSize(), int64_t(280));
    QCOMPARE(m_tok->tokenId("<|im_end|>"), int64_t(272));
    QCOMPARE(m_tok->tokenId("\xC4\xA0the"), int64_t(258)); // "Ġthe"
    QVERIFY(m_tok->hasToken("<|VIDEO|>"));
    QVERIFY(!m_tok->hasToken("<|nope|>"));
    QCOMPARE(m_tok->tokenString(276), std::string("<|IMAGE|>"));
    QVERIFY(m_tok->isSpecial(276));
    QVERIFY(!m_tok->isSpecial(97));
    const auto err = inputErrorOf([&] { m_tok->tokenId("<|nope|>"); });
    QVERIFY(err && contains(*err, "<|nope|>") && contains(*err, "tiny_qwen2_tokenizer.json"));
}

void TestTokenizer::decodeRawBytes()
{
    // 269 is the first two bytes of 中; decode returns them raw, no U+FFFD.
    QCOMPARE(m_tok->decode({269}), std::string("\xE4\xB8"));
    QCOMPARE(m_tok->decode({258, 276, 32}), std::string(" the<|IMAGE|> "));
    for (int64_t bad : {int64_t(-1), int64_t(280), int64_t(1) << 40}) {
        const auto err = inputErrorOf([&] { m_tok->decode({97, bad}); });
        QVERIFY(err && contains(*err, "id " + std::to_string(bad)));
    }
}

void TestTokenizer::invalidUtf8()
{
    const auto err = inputErrorOf([&] { m_tok->encode(std::string("ab\xC3(", 4)); });
    QVERIFY(err && contains(*err, "UTF-8 at byte 2"));
}

void TestTokenizer::concurrentEncode()
{
    // encode() is documented thread-safe: threads share one BPE cache behind a mutex.
    const std::string text = "<|im_start|>user\nin the inner h\xC3\xA9llo don't 2024\n<|im_end|>";
    const Ids expected = m_tok->encode(text);
    std::vector<char> ok(8, 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < ok.size(); ++t) {
        threads.emplace_back([&, t] {
            bool same = true;
            for (int i = 0; i < 200; ++i)
                same = same && m_tok->encode(text + std::to_string(i) + " x" + std::to_string(t))
                                   .size() > expected.size();
            ok[t] = same && m_tok->encode(text) == expected;
        });
    }
    for (auto& th : threads)
        th.join();
    for (char o : ok)
        QVERIFY(o);
}

void TestTokenizer::missingFile()
{
    const std::string path = std::string(MQ_BIN_DIR) + "/no_such_dir/tokenizer.json";
    const auto err = inputErrorOf([&] { Tokenizer::fromFile(path); });
    QVERIFY(err && contains(*err, path) && contains(*err, "cannot open"));
}

void TestTokenizer::errors_data()
{
    QTest::addColumn<std::string>("patch");   // RFC 7386 merge patch on the tiny file; "" = special
    QTest::addColumn<std::string>("raw");      // file content used instead when non-empty
    QTest::addColumn<std::string>("expected"); // substring of the message besides the file name

    QTest::newRow("invalid json")
        << std::string() << std::string("{\"model\": ") << std::string("invalid JSON");
    // A number past double's range: nlohmann throws out_of_range, not parse_error (found by
    // fuzz_tokenizer; it ended the process).
    QTest::newRow("number overflow")
        << std::string() << std::string("{\"model\": 999e9999}") << std::string("invalid JSON");
    QTest::newRow("not object")
        << std::string() << std::string("[1, 2]") << std::string("top level");
    QTest::newRow("type not BPE")
        << std::string(R"({"model": {"type": "WordPiece"}})") << std::string()
        << std::string("model.type: expected \"BPE\"");
    QTest::newRow("no model")
        << std::string(R"({"model": null})") << std::string() << std::string("model: missing");
    QTest::newRow("merge unknown token")
        << std::string(R"({"model": {"merges": ["h e", "q zz"]}})") << std::string()
        << std::string("model.merges[1]: token 'zz'");
    QTest::newRow("merge result unknown")
        << std::string(R"({"model": {"merges": ["h e", "x y"]}})") << std::string()
        << std::string("model.merges[1]: merged token 'xy'");
    QTest::newRow("merge malformed")
        << std::string(R"({"model": {"merges": ["he"]}})") << std::string()
        << std::string("model.merges[0]");
    QTest::newRow("vocab missing byte")
        << std::string(R"({"model": {"vocab": {"\u0100": null}}})") << std::string()
        << std::string("model.vocab: missing the byte-level symbol");
    QTest::newRow("bad regex")
        << std::string(R"({"pre_tokenizer": {"pretokenizers": [
               {"type": "Split", "pattern": {"Regex": "(\\p{L"}, "behavior": "Isolated"},
               {"type": "ByteLevel", "use_regex": false}]}})")
        << std::string() << std::string("pre_tokenizer.pretokenizers[0].pattern.Regex");
    QTest::newRow("split behavior")
        << std::string(R"({"pre_tokenizer": {"pretokenizers": [
               {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Removed"},
               {"type": "ByteLevel", "use_regex": false}]}})")
        << std::string() << std::string("pre_tokenizer.pretokenizers[0].behavior");
    QTest::newRow("no byte level")
        << std::string(R"({"pre_tokenizer": {"type": "Whitespace"}})") << std::string()
        << std::string("pre_tokenizer.type");
    QTest::newRow("prefix space")
        << std::string(R"({"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true}})")
        << std::string() << std::string("add_prefix_space");
    QTest::newRow("normalizer lowercase")
        << std::string(R"({"normalizer": {"type": "Lowercase"}})") << std::string()
        << std::string("normalizer: expected null or");
    QTest::newRow("byte fallback")
        << std::string(R"({"model": {"byte_fallback": true}})") << std::string()
        << std::string("model.byte_fallback");
    QTest::newRow("added lstrip")
        << std::string(R"({"added_tokens": [{"id": 270, "content": "<|x|>", "lstrip": true}]})")
        << std::string() << std::string("added_tokens[0].lstrip");
    QTest::newRow("added id clash")
        << std::string(R"({"added_tokens": [{"id": 97, "content": "<|x|>"}]})")
        << std::string() << std::string("added_tokens[0]: id 97");
    QTest::newRow("decoder")
        << std::string(R"({"decoder": {"type": "WordPiece"}})") << std::string()
        << std::string("decoder");
}

void TestTokenizer::errors()
{
    QFETCH(std::string, patch);
    QFETCH(std::string, raw);
    QFETCH(std::string, expected);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("tokenizer.json").toStdString();
    std::string content = raw;
    if (content.empty()) {
        json j = tinyJson();
        j.merge_patch(json::parse(patch));
        content = j.dump();
    }
    {
        std::ofstream out(path, std::ios::binary);
        out << content;
    }
    const auto err = inputErrorOf([&] { Tokenizer::fromFile(path); });
    QVERIFY2(err, "no InputError");
    QVERIFY2(contains(*err, path), err->c_str());
    QVERIFY2(contains(*err, expected), err->c_str());
}

QTEST_APPLESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
