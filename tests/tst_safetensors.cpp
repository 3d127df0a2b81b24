// safetensors reading/writing, sharded checkpoints and the atomic writer. Bad files are built
// byte by byte so every validation rule of SafetensorsFile is hit on its own.
#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "test_util.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <cstring>
#include <functional>
#include <limits>
#include <optional>

using namespace mq::core;

namespace {

QByteArray readBytes(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

QByteArray le64(quint64 v)
{
    QByteArray out;
    for (int i = 0; i < 8; ++i)
        out.append(char((v >> (8 * i)) & 0xff));
    return out;
}

// A safetensors file with a hand-written header and dataBytes zero bytes of data.
QByteArray stFile(const QByteArray& header, int dataBytes)
{
    return le64(quint64(header.size())) + header + QByteArray(dataBytes, '\0');
}

// Same dtype, shape and bytes: exact, since a round trip must not change a single bit.
bool sameBytes(const at::Tensor& a, const at::Tensor& b)
{
    if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes())
        return false;
    if (a.numel() == 0)
        return true; // empty tensors may have no storage at all: nothing to compare
    at::Tensor ca = a.contiguous(), cb = b.contiguous();
    return std::memcmp(ca.data_ptr(), cb.data_ptr(), size_t(ca.numel()) * ca.element_size()) == 0;
}

QStringList entriesOf(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

std::string str(const QString& s) { return s.toStdString(); }

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void manyTensorsAndMetadata();
    void goldenBytes();
    void badInput_data();
    void badInput();
    void missingFile();
    void loadFloatRejectsIntegers_data();
    void loadFloatRejectsIntegers();
    void unknownTensorInFile();
    void checkpointSingleFile();
    void checkpointShardedLazy();
    void checkpointMissingShard();
    void checkpointIndexWithoutWeightMap();
    void checkpointShardLacksTensor();
    void checkpointMissingTensor();
    void checkpointEmptyFolder();
    void atomicWriterUncommitted();
    void atomicWriterCommit();
    // Past AtomicFileWriter::kWriteBehindBytes the writer starts writeback as it goes: the
    // bytes, in uneven pieces across several such steps, are exactly what commit publishes, and
    // nothing shows at the target before.
    void atomicWriterWriteBehind();
    void atomicWriterFailedRename();
    void atomicWriterMissingFolder();
    void folderReplacementAndStaleTemporaries();
    void writeSafetensorsFailureKeepsTarget();
};

void TestSafetensors::roundTrip_data()
{
    QTest::addColumn<int>("scalarType");
    QTest::addColumn<QString>("dtypeName");

    QTest::newRow("F32") << int(at::kFloat) << "F32";
    QTest::newRow("F16") << int(at::kHalf) << "F16";
    QTest::newRow("BF16") << int(at::kBFloat16) << "BF16";
    QTest::newRow("F64") << int(at::kDouble) << "F64";
    QTest::newRow("I64") << int(at::kLong) << "I64";
    QTest::newRow("I32") << int(at::kInt) << "I32";
    QTest::newRow("I16") << int(at::kShort) << "I16";
    QTest::newRow("I8") << int(at::kChar) << "I8";
    QTest::newRow("U8") << int(at::kByte) << "U8";
    QTest::newRow("BOOL") << int(at::kBool) << "BOOL";
}

void TestSafetensors::roundTrip()
{
    QFETCH(int, scalarType);
    QFETCH(QString, dtypeName);
    const auto st = at::ScalarType(scalarType);

    at::Tensor t;
    if (at::isFloatingType(st)) {
        // Random normals plus values a lossy path would mangle: signed zero, inf, tiny, huge.
        at::Tensor base = at::randn({3, 5}, at::detail::createCPUGenerator(7));
        base.view(-1)[0] = -0.0f;
        base.view(-1)[1] = std::numeric_limits<float>::infinity();
        base.view(-1)[2] = 1e-30f;
        base.view(-1)[3] = 3e4f;
        t = base.to(st);
    } else if (st == at::kBool) {
        t = at::arange(15, at::kLong).reshape({3, 5}).remainder(3).eq(0);
    } else if (st == at::kLong) {
        // Values beyond 32 bits catch a writer that narrows.
        t = (at::arange(-7, 8, at::kLong) * int64_t(1234567891011)).reshape({3, 5});
    } else {
        t = (at::arange(15, at::kLong) * 17 - 100).reshape({3, 5}).to(st);
    }

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = str(tmp.filePath("rt.safetensors"));
    writeSafetensors(path, {{"t", t}, {"t_transposed", t.t()}});

    SafetensorsFile f(path);
    QCOMPARE(f.tensors().size(), size_t(2));
    const TensorInfo& info = f.info("t");
    QCOMPARE(QString(mq::core::dtypeName(info.dtype)), dtypeName);
    QCOMPARE(info.shape, (std::vector<int64_t>{3, 5}));
    QCOMPARE(info.numel(), int64_t(15));
    QCOMPARE(info.end - info.begin, uint64_t(15 * t.element_size()));

    at::Tensor back = f.load("t");
    QVERIFY(sameBytes(back, t));
    // A non-contiguous input must be stored in logical order, not memory order.
    QCOMPARE(f.info("t_transposed").shape, (std::vector<int64_t>{5, 3}));
    QVERIFY(sameBytes(f.load("t_transposed"), t.t().contiguous()));

    if (at::isFloatingType(st)) {
        at::Tensor asFloat = f.loadFloat("t");
        QCOMPARE(asFloat.scalar_type(), at::kFloat);
        // F16/BF16 -> F32 is exact, F64 -> F32 rounds the same way as .to(): compare bits.
        QVERIFY(sameBytes(asFloat, t.to(at::kFloat)));
    }

    // writeSafetensors and serializeSafetensors produce the same bytes.
    const std::string mem = serializeSafetensors({{"t", t}, {"t_transposed", t.t()}});
    const QByteArray disk = readBytes(QString::fromStdString(path));
    QCOMPARE(disk, QByteArray(mem.data(), int(mem.size())));
}

void TestSafetensors::manyTensorsAndMetadata()
{
    const std::map<std::string, at::Tensor> tensors = {
        {"z.weight", at::randn({4, 3}, at::detail::createCPUGenerator(1))},
        {"a.bias", at::randn({3}, at::detail::createCPUGenerator(2)).to(at::kHalf)},
        {"m.scalar", at::full({}, 2.5, at::kDouble)},
        {"e.empty", at::empty({0, 4}, at::kFloat)},
    };
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"producer", "mq"}};

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = str(tmp.filePath("many.safetensors"));
    writeSafetensors(path, tensors, meta);

    SafetensorsFile f(path);
    QCOMPARE(f.metadata(), meta);
    QCOMPARE(f.tensors().size(), tensors.size());
    QCOMPARE(f.info("m.scalar").shape, std::vector<int64_t>{});
    QCOMPARE(f.info("m.scalar").numel(), int64_t(1));
    QCOMPARE(f.info("e.empty").numel(), int64_t(0));

    // Stored sorted by name, back to back from offset 0.
    uint64_t expectedBegin = 0;
    for (const auto& [name, info] : f.tensors()) {
        QCOMPARE(info.begin, expectedBegin);
        expectedBegin = info.end;
        QVERIFY2(sameBytes(f.load(name), tensors.at(name)), name.c_str());
    }

    // Header length is a multiple of 8 and the padding is spaces.
    const QByteArray bytes = readBytes(QString::fromStdString(path));
    quint64 headerLen = 0;
    for (int i = 0; i < 8; ++i)
        headerLen |= quint64(quint8(bytes[i])) << (8 * i);
    QCOMPARE(headerLen % 8, quint64(0));
    QCOMPARE(quint64(bytes.size()), 8 + headerLen + expectedBegin);
    const QByteArray header = bytes.mid(8, int(headerLen));
    const int close = header.lastIndexOf('}');
    const int pad = header.size() - 1 - close;
    QVERIFY(close > 0 && pad < 8);
    QCOMPARE(header.mid(close + 1), QByteArray(pad, ' '));
}

void TestSafetensors::goldenBytes()
{
    // The exact bytes other readers (Python safetensors) expect for one small tensor.
    const QByteArray json = R"({"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
    QCOMPARE(json.size(), 54);
    const QByteArray expected = le64(56) + json + "  " + QByteArray("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);

    const at::Tensor w = at::tensor({1.0f, 2.0f});
    const std::string got = serializeSafetensors({{"w", w}});
    QCOMPARE(QByteArray(got.data(), int(got.size())), expected);

    const std::string withMeta = serializeSafetensors({{"w", w}}, {{"k", "v"}});
    QVERIFY(contains(withMeta, R"("__metadata__":{"k":"v"})"));
}

void TestSafetensors::badInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("tensor"); // the tensor the message must name; empty: none
    QTest::addColumn<QString>("expect"); // what the message must say was wrong

    const QByteArray w2 = R"("dtype":"F32","shape":[2])";
    QTest::newRow("shorter than 8 bytes") << QByteArray("\x01\x02\x03\x04", 4) << "" << "shorter than the 8-byte";
    QTest::newRow("header length past end") << le64(1000) + "{}" << "" << "runs past the end of the file";
    QTest::newRow("header length huge") << le64(~quint64(0)) + "{}" << "" << "runs past the end of the file";
    QTest::newRow("header not JSON") << stFile(R"({"layer.w": {"dtype")", 0) << "" << "not valid JSON";
    QTest::newRow("header not object") << stFile("[1, 2, 3]", 0) << "" << "expected a JSON object";
    QTest::newRow("entry not object") << stFile(R"({"layer.w": 5})", 0) << "layer.w" << "expected an object";
    QTest::newRow("missing dtype")
        << stFile(R"({"layer.w": {"shape":[2], "data_offsets":[0,8]}})", 8) << "layer.w" << "missing \"dtype\"";
    QTest::newRow("missing shape")
        << stFile(R"({"layer.w": {"dtype":"F32", "data_offsets":[0,8]}})", 8) << "layer.w" << "missing \"shape\"";
    QTest::newRow("missing data_offsets")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":[2]}})", 8) << "layer.w" << "missing \"data_offsets\"";
    QTest::newRow("unknown dtype")
        << stFile(R"({"layer.w": {"dtype":"Q7", "shape":[2], "data_offsets":[0,8]}})", 8) << "layer.w"
        << "unknown dtype \"Q7\"";
    QTest::newRow("dtype not a string")
        << stFile(R"({"layer.w": {"dtype":4, "shape":[2], "data_offsets":[0,8]}})", 8) << "layer.w"
        << "unknown dtype 4";
    QTest::newRow("shape not an array")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":2, "data_offsets":[0,8]}})", 8) << "layer.w"
        << "expected an array";
    QTest::newRow("shape not integers")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":[2.0], "data_offsets":[0,8]}})", 8) << "layer.w"
        << "expected non-negative integers";
    QTest::newRow("negative dimension")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":[-2,-1], "data_offsets":[0,8]}})", 8) << "layer.w"
        << "negative dimension -2";
    QTest::newRow("offsets one value")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[8]}})", 8) << "layer.w" << "two ascending";
    QTest::newRow("offsets three values")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[0,8,8]}})", 8) << "layer.w" << "two ascending";
    QTest::newRow("offsets descending")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[8,0]}})", 8) << "layer.w" << "two ascending";
    QTest::newRow("offsets strings")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":["0","8"]}})", 8) << "layer.w" << "two ascending";
    QTest::newRow("offsets negative")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[-8,0]}})", 8) << "layer.w" << "two ascending";
    QTest::newRow("offsets past data section")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[8,16]}})", 8) << "layer.w"
        << "past the end of the data section (8 bytes)";
    QTest::newRow("overlapping tensors")
        << stFile(R"({"layer.a": {)" + w2 + R"(, "data_offsets":[0,8]}, "layer.b": {)" + w2
                      + R"(, "data_offsets":[4,12]}})",
                  12)
        << "layer.b" << "overlap those of tensor 'layer.a'";
    QTest::newRow("shape x dtype != range")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":[3], "data_offsets":[0,8]}})", 8) << "layer.w"
        << "needs 12 bytes";
    QTest::newRow("shape x dtype overflows")
        << stFile(R"({"layer.w": {"dtype":"F32", "shape":[4294967296,4294967296,16], "data_offsets":[0,8]}})", 8)
        << "layer.w" << "more than 2^64";
    QTest::newRow("metadata value not string")
        << stFile(R"({"__metadata__": {"format": 1}})", 0) << "" << "\"__metadata__\" key \"format\"";
    QTest::newRow("metadata not object")
        << stFile(R"({"__metadata__": [1]})", 0) << "" << "\"__metadata__\" is array";
    // The data section must be covered exactly: otherwise every tensor would be read shifted.
    const QByteArray one = R"({"layer.w": {)" + w2 + R"(, "data_offsets":[0,8]}})";
    QTest::newRow("header length short (padding cut)")
        << le64(quint64(one.size())) + one + QByteArray("    ") + QByteArray(8, '\0') << "layer.w"
        << "the tensors end at byte 8 of the data section, which holds 12 bytes";
    QTest::newRow("data section longer than the tensors") << stFile(one, 12) << "layer.w"
                                                          << "end at byte 8 of the data section, which holds 12";
    QTest::newRow("gap between tensors")
        << stFile(R"({"layer.a": {)" + w2 + R"(, "data_offsets":[0,8]}, "layer.b": {)" + w2
                      + R"(, "data_offsets":[12,20]}})",
                  20)
        << "layer.b" << "leave bytes [8, 12]";
    QTest::newRow("first tensor not at 0")
        << stFile(R"({"layer.w": {)" + w2 + R"(, "data_offsets":[4,12]}})", 12) << "layer.w" << "leave bytes [0, 4]";
}

void TestSafetensors::badInput()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, tensor);
    QFETCH(QString, expect);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("bad_input.safetensors");
    writeBytes(path, bytes);

    const auto msg = inputErrorOf([&] { SafetensorsFile f(str(path)); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, str(path)), msg->c_str());
    if (!tensor.isEmpty())
        QVERIFY2(contains(*msg, "tensor '" + str(tensor) + "'"), msg->c_str());
    QVERIFY2(contains(*msg, str(expect)), msg->c_str());
}

void TestSafetensors::missingFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = str(tmp.filePath("absent.safetensors"));
    const auto msg = inputErrorOf([&] { SafetensorsFile f(path); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, path) && contains(*msg, "No such file"), msg->c_str());
}

void TestSafetensors::loadFloatRejectsIntegers_data()
{
    QTest::addColumn<int>("scalarType");
    QTest::newRow("I64") << int(at::kLong);
    QTest::newRow("I32") << int(at::kInt);
    QTest::newRow("U8") << int(at::kByte);
    QTest::newRow("BOOL") << int(at::kBool);
}

void TestSafetensors::loadFloatRejectsIntegers()
{
    QFETCH(int, scalarType);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = str(tmp.filePath("ints.safetensors"));
    writeSafetensors(path, {{"ids.table", at::ones({4}, at::ScalarType(scalarType))}});

    SafetensorsFile f(path);
    QCOMPARE(f.load("ids.table").scalar_type(), at::ScalarType(scalarType)); // load() still works
    const auto msg = inputErrorOf([&] { f.loadFloat("ids.table"); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, path), msg->c_str());
    QVERIFY2(contains(*msg, "tensor 'ids.table'"), msg->c_str());
    QVERIFY2(contains(*msg, "expected a floating dtype"), msg->c_str());
}

void TestSafetensors::unknownTensorInFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = str(tmp.filePath("one.safetensors"));
    writeSafetensors(path, {{"present", at::zeros({2})}});
    SafetensorsFile f(path);
    QVERIFY(f.contains("present"));
    QVERIFY(!f.contains("absent"));
    const auto msg = inputErrorOf([&] { f.load("absent"); });
    QVERIFY2(msg && contains(*msg, path) && contains(*msg, "tensor 'absent'"), msg ? msg->c_str() : "none");
}

void TestSafetensors::checkpointSingleFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const at::Tensor x = at::randn({2, 3}, at::detail::createCPUGenerator(3));
    const at::Tensor y = at::arange(4, at::kInt);
    writeSafetensors(str(tmp.filePath("model.safetensors")), {{"x", x}, {"y", y}});

    Checkpoint c(str(tmp.path()));
    QVERIFY(!c.sharded());
    QCOMPARE(c.tensorNames(), (std::vector<std::string>{"x", "y"}));
    QVERIFY(c.contains("x"));
    QVERIFY(!c.contains("z"));
    QCOMPARE(c.fileOf("x"), str(tmp.filePath("model.safetensors")));
    QCOMPARE(c.files(), std::vector<std::string>{str(tmp.filePath("model.safetensors"))});
    QCOMPARE(c.info("y").dtype, DType::I32);
    QVERIFY(sameBytes(c.load("x"), x));
    QVERIFY(sameBytes(c.load("y"), y));
    QVERIFY(sameBytes(c.loadFloat("x"), x));
}

namespace {

const char* kShard1 = "model-00001-of-00002.safetensors";
const char* kShard2 = "model-00002-of-00002.safetensors";

QByteArray twoShardIndex()
{
    return QByteArray(R"({"metadata": {"total_size": 88},
        "weight_map": {"a.weight": ")") + kShard1 + R"(", "a.bias": ")" + kShard1
        + R"(", "b.weight": ")" + kShard2 + R"("}})";
}

} // namespace

void TestSafetensors::checkpointShardedLazy()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const at::Tensor aw = at::randn({3, 4}, at::detail::createCPUGenerator(4));
    const at::Tensor ab = at::randn({3}, at::detail::createCPUGenerator(5)).to(at::kBFloat16);
    const at::Tensor bw = at::randn({2, 3}, at::detail::createCPUGenerator(6));
    writeSafetensors(str(tmp.filePath(kShard1)), {{"a.weight", aw}, {"a.bias", ab}});
    writeSafetensors(str(tmp.filePath(kShard2)), {{"b.weight", bw}});
    writeBytes(tmp.filePath("model.safetensors.index.json"), twoShardIndex());

    Checkpoint c(str(tmp.path()));
    QVERIFY(c.sharded());
    QCOMPARE(c.tensorNames(), (std::vector<std::string>{"a.bias", "a.weight", "b.weight"}));
    QCOMPARE(c.files(), (std::vector<std::string>{str(tmp.filePath(kShard1)), str(tmp.filePath(kShard2))}));
    QCOMPARE(c.fileOf("b.weight"), str(tmp.filePath(kShard2)));

    // Shard 2 is corrupted after construction: shard 1 must still load, which it only can if
    // shards are opened lazily, and shard 2 must then fail naming itself.
    writeBytes(tmp.filePath(kShard2), "junk");
    QVERIFY(sameBytes(c.load("a.weight"), aw));
    const auto msg = inputErrorOf([&] { c.load("b.weight"); });
    QVERIFY2(msg && contains(*msg, str(tmp.filePath(kShard2))), msg ? msg->c_str() : "none");

    // Shard 1 is cached open: removing it from disk does not stop further loads.
    QVERIFY(QFile::remove(tmp.filePath(kShard1)));
    QVERIFY(sameBytes(c.load("a.bias"), ab));
    QVERIFY(sameBytes(c.loadFloat("a.bias"), ab.to(at::kFloat)));
}

void TestSafetensors::checkpointMissingShard()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    writeSafetensors(str(tmp.filePath(kShard1)), {{"a.weight", at::zeros({2})}, {"a.bias", at::zeros({2})}});
    writeBytes(tmp.filePath("model.safetensors.index.json"), twoShardIndex());

    const auto msg = inputErrorOf([&] { Checkpoint c(str(tmp.path())); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, str(tmp.filePath("model.safetensors.index.json"))), msg->c_str());
    QVERIFY2(contains(*msg, kShard2), msg->c_str());
    QVERIFY2(contains(*msg, "tensor 'b.weight'"), msg->c_str());
}

void TestSafetensors::checkpointIndexWithoutWeightMap()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    writeBytes(tmp.filePath("model.safetensors.index.json"), R"({"metadata": {}})");
    const auto msg = inputErrorOf([&] { Checkpoint c(str(tmp.path())); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, str(tmp.filePath("model.safetensors.index.json"))), msg->c_str());
    QVERIFY2(contains(*msg, "weight_map"), msg->c_str());
}

void TestSafetensors::checkpointShardLacksTensor()
{
    // The index promises b.weight in shard 2, but shard 2 holds something else.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    writeSafetensors(str(tmp.filePath(kShard1)), {{"a.weight", at::zeros({2})}, {"a.bias", at::zeros({2})}});
    writeSafetensors(str(tmp.filePath(kShard2)), {{"c.weight", at::zeros({2})}});
    writeBytes(tmp.filePath("model.safetensors.index.json"), twoShardIndex());

    Checkpoint c(str(tmp.path()));
    const auto msg = inputErrorOf([&] { c.load("b.weight"); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, str(tmp.filePath(kShard2))) && contains(*msg, "tensor 'b.weight'"), msg->c_str());
}

void TestSafetensors::checkpointMissingTensor()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    writeSafetensors(str(tmp.filePath("model.safetensors")), {{"x", at::zeros({2})}});
    Checkpoint c(str(tmp.path()));
    for (const auto& call : std::vector<std::function<void()>>{[&] { c.load("nope.weight"); },
                                                                [&] { c.loadFloat("nope.weight"); },
                                                                [&] { c.info("nope.weight"); },
                                                                [&] { c.fileOf("nope.weight"); }}) {
        const auto msg = inputErrorOf(call);
        QVERIFY2(msg, "no InputError thrown");
        QVERIFY2(contains(*msg, "tensor 'nope.weight'") && contains(*msg, str(tmp.path())), msg->c_str());
    }
}

void TestSafetensors::checkpointEmptyFolder()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const auto msg = inputErrorOf([&] { Checkpoint c(str(tmp.path())); });
    QVERIFY2(msg, "no InputError thrown");
    QVERIFY2(contains(*msg, str(tmp.path())), msg->c_str());
    QVERIFY2(contains(*msg, "model.safetensors.index.json"), msg->c_str());
    QVERIFY2(contains(*msg, "expected model.safetensors"), msg->c_str());

    const auto missingDir = inputErrorOf([&] { Checkpoint c(str(tmp.filePath("nowhere"))); });
    QVERIFY2(missingDir && contains(*missingDir, str(tmp.filePath("nowhere"))), "missing folder not named");
}

void TestSafetensors::atomicWriterUncommitted()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString target = tmp.filePath("target.bin");
    writeBytes(target, "old content");
    {
        AtomicFileWriter w(str(target));
        QCOMPARE(w.targetPath(), str(target));
        QVERIFY(QFileInfo(QString::fromStdString(w.tempPath())).absolutePath() == tmp.path());
        w.write("new", 3);
        QVERIFY(QFile::exists(QString::fromStdString(w.tempPath())));
        QCOMPARE(readBytes(target), QByteArray("old content")); // not visible before commit
    } // destroyed without commit(), as when an exception unwinds a writer
    QCOMPARE(readBytes(target), QByteArray("old content"));
    QCOMPARE(entriesOf(tmp.path()), QStringList{"target.bin"});
}

// A folder replaced in place (the old content gone, no ".old" or ".tmp" left), and what killed
// writers left beside a target (a pid that no longer runs) removed on the next write, while a
// live writer's temporaries (this process's) stay.
void TestSafetensors::folderReplacementAndStaleTemporaries()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString out = tmp.filePath("export");
    writeFolderAtomic(str(out), false, [](const std::string& d) { writeFileAtomic(d + "/a.txt", "one"); });
    // Stale: a pid above the kernel's pid_max default (4194304) never runs.
    QVERIFY(QDir(tmp.path()).mkdir("export.tmp-4194999"));
    writeBytes(tmp.filePath("export.old-4194999"), "x");
    writeBytes(tmp.filePath("s.mqs.tmp-4194999-3"), "x");
    const QString live = QStringLiteral("export.tmp-%1-7").arg(QCoreApplication::applicationPid());
    writeBytes(tmp.filePath(live), "mine");
    writeFolderAtomic(str(out), true, [](const std::string& d) { writeFileAtomic(d + "/b.txt", "two"); });
    QCOMPARE(entriesOf(out), QStringList{"b.txt"});
    QCOMPARE(entriesOf(tmp.path()), (QStringList{"export", live, "s.mqs.tmp-4194999-3"}));
    QCOMPARE(removeStaleTemporaries(str(tmp.filePath("s.mqs"))), 1);
    QCOMPARE(entriesOf(tmp.path()), (QStringList{"export", live}));

    // The target checks: a folder with content needs overwrite; an empty one does not; a name the
    // system refuses (a component over NAME_MAX, 255 bytes) is an InputError naming the target,
    // and a missing parent is named as such. Nothing is written in any of these.
    auto refusal = [](const QString& target, bool overwrite) -> QString {
        try {
            writeFolderAtomic(str(target), overwrite, [](const std::string& d) { writeFileAtomic(d + "/c.txt", "3"); });
        } catch (const InputError& e) {
            return QString::fromStdString(e.what());
        }
        return QString();
    };
    QVERIFY(refusal(out, false).contains("already exists"));
    QCOMPARE(entriesOf(out), QStringList{"b.txt"});
    QVERIFY(QDir(tmp.path()).mkdir("empty"));
    QCOMPARE(refusal(tmp.filePath("empty"), false), QString());
    QCOMPARE(entriesOf(tmp.filePath("empty")), QStringList{"c.txt"});
    const QString tooLong = tmp.filePath(QString(300, 'n'));
    const QString why = refusal(tooLong, false);
    QVERIFY2(why.contains("cannot use as the output folder") && why.contains(QString(300, 'n')), qPrintable(why));
    QVERIFY(refusal(tmp.filePath("no/such/parent"), false).contains("parent folder does not exist"));
    QCOMPARE(entriesOf(tmp.path()), (QStringList{"empty", "export", live}));
}

void TestSafetensors::atomicWriterCommit()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString target = tmp.filePath("target.bin");
    writeBytes(target, "old content");
    {
        AtomicFileWriter w(str(target));
        w.write("new ", 4);
        w.write("content", 7);
        w.commit();
    }
    QCOMPARE(readBytes(target), QByteArray("new content"));
    QCOMPARE(entriesOf(tmp.path()), QStringList{"target.bin"});

    writeFileAtomic(str(target), "third");
    QCOMPARE(QString::fromStdString(readTextFile(str(target))), QString("third"));
    QCOMPARE(entriesOf(tmp.path()), QStringList{"target.bin"});
}

void TestSafetensors::atomicWriterWriteBehind()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString target = tmp.filePath("big.bin");
    writeBytes(target, "old content");
    const size_t total = size_t(AtomicFileWriter::kWriteBehindBytes) * 5 / 2 + 12345;
    QByteArray want(int(total), Qt::Uninitialized);
    for (size_t i = 0; i < total; ++i)
        want[int(i)] = char((uint32_t(i) * 2654435761u) >> 24);
    {
        AtomicFileWriter w(str(target));
        size_t done = 0, piece = 7 << 20;
        while (done < total) {
            const size_t n = std::min(piece, total - done);
            w.write(want.constData() + done, n);
            done += n;
            piece = piece * 3 / 2 + 4099; // uneven, and crossing the write-behind steps anywhere
        }
        QCOMPARE(readBytes(target), QByteArray("old content"));
        w.commit();
    }
    const QByteArray got = readBytes(target);
    QCOMPARE(got.size(), want.size());
    QVERIFY(got == want);
    QCOMPARE(entriesOf(tmp.path()), QStringList{"big.bin"});
}

void TestSafetensors::atomicWriterFailedRename()
{
    // rename() cannot replace a non-empty folder: commit fails, the target is left as it was
    // and no temp file is left behind.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QVERIFY(QDir(tmp.path()).mkdir("target"));
    writeBytes(tmp.filePath("target/keep.txt"), "keep");
    const std::string target = str(tmp.filePath("target"));
    bool threw = false;
    {
        AtomicFileWriter w(target);
        w.write("x", 1);
        try {
            w.commit();
        } catch (const Error& e) {
            threw = true;
            QVERIFY2(contains(e.what(), target), e.what());
        }
    }
    QVERIFY(threw);
    QCOMPARE(entriesOf(tmp.path()), QStringList{"target"});
    QCOMPARE(readBytes(tmp.filePath("target/keep.txt")), QByteArray("keep"));
}

void TestSafetensors::atomicWriterMissingFolder()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string target = str(tmp.filePath("no/such/folder/out.bin"));
    try {
        AtomicFileWriter w(target);
        QFAIL("no Error thrown");
    } catch (const Error& e) {
        QVERIFY2(contains(e.what(), target), e.what());
        QVERIFY2(contains(e.what(), "No such file or directory"), e.what()); // strerror
    }
}

void TestSafetensors::writeSafetensorsFailureKeepsTarget()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString target = tmp.filePath("model.safetensors");
    writeSafetensors(str(target), {{"ok", at::ones({2})}});
    const QByteArray before = readBytes(target);

    // Complex tensors have no safetensors dtype: the write must fail as a whole.
    QVERIFY_THROWS_EXCEPTION(Error, writeSafetensors(str(target), {{"a", at::ones({2})},
                                                                   {"z", at::ones({2}, at::kComplexFloat)}}));
    QCOMPARE(readBytes(target), before);
    QCOMPARE(entriesOf(tmp.path()), QStringList{"model.safetensors"});
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
