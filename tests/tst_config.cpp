// config.json parsing (Llama / Qwen2) and JSONL token datasets, against the real stories260K
// files and hand-made bad inputs.
#include "common/error.h"
#include "io/hf_config.h"
#include "io/token_data.h"
#include "test_util.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>

using namespace mq::core;
using nlohmann::json;

namespace {

// A valid Llama config every bad-config row patches (RFC 7386 merge patch: null removes a key).
json baseConfig()
{
    return json::parse(R"({
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 172,
        "num_hidden_layers": 5, "num_attention_heads": 8, "num_key_value_heads": 4,
        "vocab_size": 512, "hidden_act": "silu"})");
}

const char* kSource = "test-model/config.json";

} // namespace

class TestConfig : public QObject {
    Q_OBJECT

private slots:
    void storiesConfig();
    void defaults_data();
    void defaults();
    void badConfig_data();
    void badConfig();
    void loadMissingFile();
    void loadInvalidJson();
    void storiesCalibration();
    void tokenDataSkipsBlankLines();
    void badTokenData_data();
    void badTokenData();
    void tokenDataMissingFile();
};

void TestConfig::storiesConfig()
{
    const ModelConfig c = loadModelConfig(mq::test::storiesDir() + "/config.json");
    QCOMPARE(c.arch, Architecture::Llama);
    QCOMPARE(c.modelType, std::string("llama"));
    QCOMPARE(QString(architectureName(c.arch)), QString("llama"));
    QCOMPARE(c.hiddenSize, 64);
    QCOMPARE(c.intermediateSize, 172);
    QCOMPARE(c.numLayers, 5);
    QCOMPARE(c.numHeads, 8);
    QCOMPARE(c.numKvHeads, 4);
    QCOMPARE(c.headDim, 8);
    QCOMPARE(c.vocabSize, 512);
    QCOMPARE(c.maxPositions, 512);
    // QCOMPARE on doubles is qFuzzyCompare (about 1e-12 relative): both values are decimal
    // literals in the file, so anything but a parse of the right key lands far outside that.
    QCOMPARE(c.ropeTheta, 10000.0);
    QCOMPARE(c.rmsNormEps, 1e-5);
    QCOMPARE(c.tieWordEmbeddings, true);
    QCOMPARE(c.attentionBias, false);
    QCOMPARE(c.hiddenAct, std::string("silu"));
    QCOMPARE(c.torchDtype, std::string("float32"));
}

void TestConfig::defaults_data()
{
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<int>("arch");
    QTest::addColumn<bool>("attentionBias");
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<int>("headDim");

    QTest::newRow("llama defaults") << QByteArray("{}") << int(Architecture::Llama) << false << 4 << 8;
    QTest::newRow("llama attention_bias") << QByteArray(R"({"attention_bias": true})") << int(Architecture::Llama)
                                          << true << 4 << 8;
    QTest::newRow("qwen2 has biases") << QByteArray(R"({"model_type": "qwen2"})") << int(Architecture::Qwen2)
                                      << true << 4 << 8;
    QTest::newRow("kv heads default to heads")
        << QByteArray(R"({"num_key_value_heads": null})") << int(Architecture::Llama) << false << 8 << 8;
    QTest::newRow("explicit head_dim") << QByteArray(R"({"head_dim": 16})") << int(Architecture::Llama) << false
                                       << 4 << 16;
    QTest::newRow("null head_dim is absent") << QByteArray(R"({"head_dim": null})") << int(Architecture::Llama)
                                             << false << 4 << 8;
}

void TestConfig::defaults()
{
    QFETCH(QByteArray, patch);
    QFETCH(int, arch);
    QFETCH(bool, attentionBias);
    QFETCH(int, kvHeads);
    QFETCH(int, headDim);

    json j = baseConfig();
    j.merge_patch(json::parse(patch.toStdString()));
    const ModelConfig c = parseModelConfig(j, kSource);
    QCOMPARE(int(c.arch), arch);
    QCOMPARE(c.attentionBias, attentionBias);
    QCOMPARE(c.numKvHeads, kvHeads);
    QCOMPARE(c.headDim, headDim);
    // Keys absent from the base config take the documented defaults.
    QCOMPARE(c.rmsNormEps, 1e-6);
    QCOMPARE(c.ropeTheta, 10000.0);
    QCOMPARE(c.tieWordEmbeddings, false);
    QCOMPARE(c.maxPositions, 2048);
    QCOMPARE(c.torchDtype, std::string("float32"));
}

void TestConfig::badConfig_data()
{
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<QStringList>("expect"); // each must appear in the message

    auto row = [](const char* tag, const char* patch, QStringList expect) {
        QTest::newRow(tag) << QByteArray(patch) << expect;
    };
    row("not an object", "[1, 2]", {"expected a JSON object"});
    row("unknown model_type", R"({"model_type": "gpt2"})", {"model_type", "gpt2", "llama", "qwen2"});
    row("missing model_type", R"({"model_type": null})", {"model_type", "llama", "qwen2"});
    row("model_type not a string", R"({"model_type": 3})", {"model_type", "expected a string"});
    row("missing hidden_size", R"({"hidden_size": null})", {"\"hidden_size\" is missing"});
    row("missing intermediate_size", R"({"intermediate_size": null})", {"\"intermediate_size\" is missing"});
    row("missing num_hidden_layers", R"({"num_hidden_layers": null})", {"\"num_hidden_layers\" is missing"});
    row("missing num_attention_heads", R"({"num_attention_heads": null})", {"\"num_attention_heads\" is missing"});
    row("missing vocab_size", R"({"vocab_size": null})", {"\"vocab_size\" is missing"});
    row("hidden_size as string", R"({"hidden_size": "64"})", {"\"hidden_size\"", "expected an integer"});
    row("hidden_size fractional", R"({"hidden_size": 64.5})", {"\"hidden_size\"", "expected an integer"});
    row("hidden_size too large", R"({"hidden_size": 99999999999})", {"\"hidden_size\"", "out of range"});
    row("rms_norm_eps as string", R"({"rms_norm_eps": "1e-5"})", {"\"rms_norm_eps\"", "expected a number"});
    row("rope_theta as bool", R"({"rope_theta": true})", {"\"rope_theta\"", "expected a number"});
    row("tie_word_embeddings as string", R"({"tie_word_embeddings": "yes"})",
        {"\"tie_word_embeddings\"", "true or false"});
    row("attention_bias as int", R"({"attention_bias": 1})", {"\"attention_bias\"", "true or false"});
    row("torch_dtype as number", R"({"torch_dtype": 16})", {"\"torch_dtype\"", "expected a string"});
    row("zero layers", R"({"num_hidden_layers": 0})", {"\"num_hidden_layers\"", "positive"});
    row("negative vocab", R"({"vocab_size": -5})", {"\"vocab_size\"", "positive"});
    row("zero kv heads", R"({"num_key_value_heads": 0})", {"\"num_key_value_heads\"", "positive"});
    row("zero head_dim", R"({"head_dim": 0})", {"\"head_dim\"", "positive"});
    row("non-positive eps", R"({"rms_norm_eps": 0})", {"\"rms_norm_eps\"", "> 0"});
    row("heads do not divide hidden", R"({"num_attention_heads": 6, "num_key_value_heads": 6})",
        {"\"hidden_size\"", "num_attention_heads", "6"});
    row("kv heads do not divide heads", R"({"num_key_value_heads": 3})",
        {"\"num_attention_heads\"", "num_key_value_heads", "3"});
    row("gelu activation", R"({"hidden_act": "gelu"})", {"\"hidden_act\"", "gelu", "silu"});
    row("rope scaling", R"({"rope_scaling": {"type": "linear", "factor": 2.0}})", {"\"rope_scaling\""});
}

void TestConfig::badConfig()
{
    QFETCH(QByteArray, patch);
    QFETCH(QStringList, expect);

    json j = baseConfig();
    j.merge_patch(json::parse(patch.toStdString()));
    const auto msg = inputErrorOf([&] { parseModelConfig(j, kSource); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, kSource), msg->c_str());
    for (const QString& e : expect)
        QVERIFY2(contains(*msg, e.toStdString()), msg->c_str());
}

void TestConfig::loadMissingFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = tmp.filePath("config.json").toStdString();
    const auto msg = inputErrorOf([&] { loadModelConfig(path); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, path), msg->c_str());
}

void TestConfig::loadInvalidJson()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("config.json");
    writeBytes(path, R"({"model_type": "llama",)");
    const auto msg = inputErrorOf([&] { loadModelConfig(path.toStdString()); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, path.toStdString()), msg->c_str());
    QVERIFY2(contains(*msg, "not valid JSON") && contains(*msg, "parse error"), msg->c_str());
}

void TestConfig::storiesCalibration()
{
    const std::string path = mq::test::storiesDir() + "/calibration.jsonl";
    const ModelConfig c = loadModelConfig(mq::test::storiesDir() + "/config.json");
    const TokenDataset ds = loadTokenDataset(path, c.vocabSize);
    QCOMPARE(ds.path, path);
    QCOMPARE(ds.sequences.size(), size_t(64));
    for (const auto& seq : ds.sequences) {
        QCOMPARE(seq.size(), size_t(257));
        QCOMPARE(seq.front(), int64_t(1)); // BOS
    }
    QCOMPARE(ds.totalTokens(), int64_t(64 * 257));
}

void TestConfig::tokenDataSkipsBlankLines()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("ids.jsonl");
    writeBytes(path, "{\"input_ids\": [1, 2, 3], \"text\": \"abc\"}\r\n\n   \n{\"input_ids\": [4]}");
    const TokenDataset ds = loadTokenDataset(path.toStdString(), 5);
    QCOMPARE(ds.sequences.size(), size_t(2));
    QCOMPARE(ds.sequences[0], (std::vector<int64_t>{1, 2, 3}));
    QCOMPARE(ds.sequences[1], (std::vector<int64_t>{4}));
    QCOMPARE(ds.totalTokens(), int64_t(4));
}

void TestConfig::badTokenData_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<qint64>("vocab");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("expect");

    const QByteArray good = "{\"input_ids\": [1, 2]}\n";
    QTest::newRow("malformed line") << good + "{\"input_ids\": [1, 2\n" << qint64(0) << 2 << "not valid JSON";
    // Blank lines still count, so the reported number matches an editor's.
    QTest::newRow("missing input_ids after blank") << good + "\n{\"text\": \"hi\"}\n" << qint64(0) << 3
                                                   << "missing \"input_ids\"";
    QTest::newRow("empty input_ids") << good + "{\"input_ids\": []}\n" << qint64(0) << 2 << "non-empty array";
    QTest::newRow("input_ids not array") << good + "{\"input_ids\": 5}\n" << qint64(0) << 2 << "non-empty array";
    QTest::newRow("line not an object") << good + good + "[1, 2]\n" << qint64(0) << 3 << "expected a JSON object";
    QTest::newRow("fractional id") << good + "{\"input_ids\": [1, 2.5]}\n" << qint64(0) << 2
                                   << "input_ids[1] = 2.5 is not an integer";
    QTest::newRow("string id") << good + "{\"input_ids\": [\"7\"]}\n" << qint64(0) << 2 << "not an integer";
    QTest::newRow("id out of vocab") << good + "{\"input_ids\": [1, 600]}\n" << qint64(512) << 2
                                     << "input_ids[1] = 600 is outside the vocabulary [0, 512)";
    QTest::newRow("negative id") << QByteArray("{\"input_ids\": [-1]}\n") << qint64(512) << 1 << "outside the vocabulary";
}

void TestConfig::badTokenData()
{
    QFETCH(QByteArray, content);
    QFETCH(qint64, vocab);
    QFETCH(int, line);
    QFETCH(QString, expect);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("bad.jsonl");
    writeBytes(path, content);
    const auto msg = inputErrorOf([&] { loadTokenDataset(path.toStdString(), vocab); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, path.toStdString()), msg->c_str());
    QVERIFY2(contains(*msg, "line " + std::to_string(line) + ":"), msg->c_str());
    QVERIFY2(contains(*msg, expect.toStdString()), msg->c_str());
}

void TestConfig::tokenDataMissingFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = tmp.filePath("absent.jsonl").toStdString();
    const auto missing = inputErrorOf([&] { loadTokenDataset(path); });
    QVERIFY2(missing && contains(*missing, path), missing ? missing->c_str() : "none");

    // A file with no sequences at all is rejected up front rather than dividing by zero later.
    const QString empty = tmp.filePath("empty.jsonl");
    writeBytes(empty, "\n\n");
    const auto none = inputErrorOf([&] { loadTokenDataset(empty.toStdString()); });
    QVERIFY2(none && contains(*none, empty.toStdString()) && contains(*none, "no sequences"),
             none ? none->c_str() : "none");
}

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
