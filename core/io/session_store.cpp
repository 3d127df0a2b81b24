#include "io/session_store.h"
#include "quant/rotation_key.h"

#include <H5Cpp.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>

#include "common/error.h"
#include "io/atomic_file.h"

namespace mq::core {
namespace {

// Debian's HDF5 is the serial (non-thread-safe) build: every HDF5 call of this file runs under
// one lock so a save on a job thread cannot race a load on the GUI thread.
std::mutex& hdf5Mutex()
{
    static std::mutex m;
    return m;
}

// On-disk names of the modalities. They are part of the file format, so they are spelled here
// rather than borrowed from modalityName(), whose wording may change for display.
constexpr const char* kModalityKeys[kNumModalities] = {"text", "image", "video", "audio"};
constexpr const char* kPooledKey = "pooled";

// Datasets at least this large are chunked and compressed: histograms are mostly zeros.
constexpr hsize_t kCompressMinElems = 16384;
constexpr hsize_t kChunkElems = 65536;

std::string join(const std::string& parent, const std::string& name)
{
    return parent == "/" ? "/" + name : parent + "/" + name;
}

template <class T> struct H5Of;
template <> struct H5Of<float> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_FLOAT; }
    static const H5::PredType& file() { return H5::PredType::IEEE_F32LE; }
    static constexpr H5T_class_t cls = H5T_FLOAT;
    static constexpr const char* name = "float32";
};
template <> struct H5Of<double> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_DOUBLE; }
    static const H5::PredType& file() { return H5::PredType::IEEE_F64LE; }
    static constexpr H5T_class_t cls = H5T_FLOAT;
    static constexpr const char* name = "float64";
};
template <> struct H5Of<uint8_t> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_UINT8; }
    static const H5::PredType& file() { return H5::PredType::STD_U8LE; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr const char* name = "uint8";
};
template <> struct H5Of<uint32_t> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_UINT32; }
    static const H5::PredType& file() { return H5::PredType::STD_U32LE; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr const char* name = "uint32";
};
template <> struct H5Of<int32_t> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_INT32; }
    static const H5::PredType& file() { return H5::PredType::STD_I32LE; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr const char* name = "int32";
};
template <> struct H5Of<int64_t> {
    static const H5::PredType& mem() { return H5::PredType::NATIVE_INT64; }
    static const H5::PredType& file() { return H5::PredType::STD_I64LE; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr const char* name = "int64";
};

H5::StrType utf8Type()
{
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    return t;
}

// A fixed-length UTF-8 string type of `size` bytes, NUL-padded.
H5::StrType fixedUtf8Type(size_t size)
{
    H5::StrType t(H5::PredType::C_S1, size);
    t.setCset(H5T_CSET_UTF8);
    t.setStrpad(H5T_STR_NULLPAD);
    return t;
}

// Fixed-length strings wider than this are refused as corrupt (a config.json is far smaller).
constexpr size_t kMaxStringBytes = size_t(256) << 20;

H5::FileAccPropList fileAccess()
{
    H5::FileAccPropList fapl;
    // Network and container filesystems often have no locks; HDF5 would refuse to open there.
    H5Pset_file_locking(fapl.getId(), true, true);
    return fapl;
}

// Both the writer and the reader check these, so a file that saves always loads.
std::string checkStats(const ChannelStats& s, std::string* array)
{
    const auto k = size_t(s.channels);
    auto bad = [&](const char* name, size_t n, size_t want) {
        *array = name;
        return std::to_string(n) + " values, expected " + std::to_string(want)
            + (std::string(name) == "hist" ? " (channels x " + std::to_string(kHistBins) + ")" : " (channels)");
    };
    if (s.channels < 0) {
        *array = "";
        return "negative channel count " + std::to_string(s.channels);
    }
    if (s.min.size() != k) return bad("min", s.min.size(), k);
    if (s.max.size() != k) return bad("max", s.max.size(), k);
    if (s.sumAbs.size() != k) return bad("sum_abs", s.sumAbs.size(), k);
    if (s.sumSq.size() != k) return bad("sum_sq", s.sumSq.size(), k);
    if (s.hist.size() != k * kHistBins) return bad("hist", s.hist.size(), k * kHistBins);
    return {};
}

// The mask is derived from the scores, so their lengths must agree; every other per-channel
// array is either absent (empty: that step has not run) or of the same channel count.
std::string checkPlan(const GroupPlan& p)
{
    for (float v : p.smooth)
        if (!(v > 0.0f) || !std::isfinite(v))
            return "smooth holds a factor that is not a finite value > 0";
    if (p.mask.size() != p.scores.size())
        return "mask has " + std::to_string(p.mask.size()) + " values but scores has "
            + std::to_string(p.scores.size());
    size_t k = p.scores.size();
    const std::pair<const char*, size_t> arrays[] = {{"hand_edited", p.handEdited.size()},
                                                     {"alpha0", p.alpha0.size()},
                                                     {"alpha", p.alpha.size()},
                                                     {"smooth", p.smooth.size()}};
    const char* kFrom = "scores";
    for (const auto& [name, n] : arrays) {
        if (n == 0)
            continue;
        if (k != 0 && n != k)
            return std::string(name) + " has " + std::to_string(n) + " values but " + kFrom + " has "
                + std::to_string(k);
        if (k == 0) {
            k = n;
            kFrom = name;
        }
    }
    return {};
}

constexpr int kErrorRows = kNumModalities + 1; // the modalities, then pooled
constexpr int kErrorColumns = 3;               // tokens, sqnr_db, cosine
constexpr double kMaxExactInteger = 9007199254740992.0; // 2^53: token counts stay exact in f64

// "" when a stored weight's arrays agree with its shape, group size and bits.
std::string checkStoredWeight(const StoredWeight& sw)
{
    if (sw.format != "int" && sw.format != "nvfp4" && sw.format != "mxfp4" && sw.format != "hif4")
        return "unknown format '" + sw.format + "' (expected int, nvfp4, mxfp4 or hif4)";
    if (sw.format != "int" && !sw.zeros.empty())
        return "zero points in a " + sw.format + " weight";
    if (sw.rows <= 0 || sw.cols <= 0)
        return "empty weight";
    if (sw.groupSize <= 0 || (sw.format == "int" && sw.cols % sw.groupSize != 0))
        return "group size " + std::to_string(sw.groupSize) + " does not divide the " + std::to_string(sw.cols)
            + " input columns";
    const size_t groups = size_t(sw.rows * ((sw.cols + sw.groupSize - 1) / sw.groupSize));
    if (sw.codes.size() != size_t(sw.rows * sw.cols))
        return "codes do not match the shape";
    if (sw.scales.size() != groups || (sw.format == "int" && !sw.symmetric && sw.zeros.size() != groups))
        return "scales or zero points: " + std::to_string(sw.scales.size()) + " values, expected "
            + std::to_string(groups) + " (one per row and group)";
    const unsigned maxCode = (1u << sw.bits) - 1u;
    for (uint8_t c : sw.codes)
        if (c > maxCode)
            return "a code " + std::to_string(int(c)) + " past " + std::to_string(maxCode) + " (" + std::to_string(sw.bits)
                + " bits)";
    for (float v : sw.scales)
        if (!(v > 0.0f) || !std::isfinite(v))
            return "a scale that is not a finite value > 0";
    for (float v : sw.zeros)
        if (!std::isfinite(v) || std::floor(v) != v)
            return "a zero point that is not a whole number";
    return "";
}

bool knownCalibrationKind(const std::string& kind) { return kind == "tokens" || kind == "manifest"; }

// Every figure must survive the trip (finite, whole non-negative token counts); the writer and
// the reader both check, so a file that saves always loads.
std::string checkErrorStat(const ErrorStat& e, const char* row)
{
    if (e.tokens < 0 || double(e.tokens) > kMaxExactInteger)
        return std::string(row) + ": token count " + std::to_string(e.tokens) + " out of range (expected 0..2^53)";
    if (!std::isfinite(e.sqnrDb) || !std::isfinite(e.cosine))
        return std::string(row) + ": sqnr_db " + std::to_string(e.sqnrDb) + " and cosine " + std::to_string(e.cosine)
            + " must both be finite";
    return {};
}

std::string checkModuleError(const ModuleError& me)
{
    if (me.module.empty())
        return "empty module name";
    for (int m = 0; m < kNumModalities; ++m) {
        const std::string problem = checkErrorStat(me.perModality[size_t(m)], kModalityKeys[m]);
        if (!problem.empty())
            return problem;
    }
    return checkErrorStat(me.pooled, kPooledKey);
}

// Group names become HDF5 link names: '/' would nest, "." names the parent itself.
void checkLinkName(const std::string& file, const std::string& parent, const std::string& name)
{
    if (name.empty() || name == "." || name.find('/') != std::string::npos)
        throw InputError(file + ": " + join(parent, name) + ": invalid input group name '" + name
                         + "' (must be non-empty, not '.', and contain no '/')");
}

class Writer {
public:
    explicit Writer(std::string file) : m_file(std::move(file)) {}

    void write(H5::H5File& f, const Session& s);

    // Where the writer was when HDF5 failed, for the error message.
    const std::string& object() const { return m_object; }

private:
    H5::Group group(H5::Group& parent, const std::string& parentPath, const std::string& name)
    {
        m_object = join(parentPath, name);
        return parent.createGroup(name);
    }
    void stringAttr(H5::H5Object& obj, const std::string& objPath, const char* name, const std::string& v)
    {
        m_object = objPath + "@" + name;
        if (v.find('\0') != std::string::npos)
            throw InputError(m_file + ": " + m_object + ": text contains a NUL byte, which HDF5 strings cannot hold");
        // Fixed-length (format 2): the bytes sit in the attribute itself, no global heap.
        const H5::StrType t = fixedUtf8Type(std::max<size_t>(1, v.size()));
        std::vector<char> buf(std::max<size_t>(1, v.size()), '\0');
        std::copy(v.begin(), v.end(), buf.begin());
        obj.createAttribute(name, t, H5::DataSpace(H5S_SCALAR)).write(t, buf.data());
    }
    template <class T> void numAttr(H5::H5Object& obj, const std::string& objPath, const char* name, T v)
    {
        m_object = objPath + "@" + name;
        obj.createAttribute(name, H5Of<T>::file(), H5::DataSpace(H5S_SCALAR)).write(H5Of<T>::mem(), &v);
    }
    template <class T>
    void array(H5::Group& g, const std::string& gPath, const char* name, const std::vector<T>& v,
               std::vector<hsize_t> dims = {})
    {
        m_object = join(gPath, name);
        if (dims.empty())
            dims = {hsize_t(v.size())};
        H5::DSetCreatPropList plist;
        if (v.size() >= kCompressMinElems && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
            hsize_t rowElems = 1;
            for (size_t i = 1; i < dims.size(); ++i)
                rowElems *= dims[i];
            std::vector<hsize_t> chunk = dims;
            chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], kChunkElems / rowElems));
            plist.setChunk(int(chunk.size()), chunk.data());
            plist.setShuffle();
            plist.setDeflate(4);
        }
        H5::DataSpace space(int(dims.size()), dims.data());
        H5::DataSet ds = g.createDataSet(name, H5Of<T>::file(), space, plist);
        if (!v.empty())
            ds.write(v.data(), H5Of<T>::mem());
    }
    void strings(H5::Group& g, const std::string& gPath, const char* name, const std::vector<std::string>& v)
    {
        m_object = join(gPath, name);
        size_t width = 1;
        for (const std::string& s : v) {
            if (s.find('\0') != std::string::npos)
                throw InputError(m_file + ": " + m_object + ": '" + s.c_str()
                                 + "...' contains a NUL byte, which HDF5 strings cannot hold");
            width = std::max(width, s.size());
        }
        // Fixed-length strings of the longest one's width, NUL-padded (format 2).
        std::vector<char> buf(v.size() * width, '\0');
        for (size_t i = 0; i < v.size(); ++i)
            std::copy(v[i].begin(), v[i].end(), buf.begin() + std::ptrdiff_t(i * width));
        const H5::StrType t = fixedUtf8Type(width);
        hsize_t n = v.size();
        H5::DataSet ds = g.createDataSet(name, t, H5::DataSpace(1, &n));
        if (n)
            ds.write(buf.data(), t);
    }
    void stats(H5::Group& g, const std::string& gPath, const char* name, const ChannelStats& s)
    {
        const std::string path = join(gPath, name);
        std::string arrayName;
        const std::string problem = checkStats(s, &arrayName);
        if (!problem.empty())
            throw InputError(m_file + ": " + (arrayName.empty() ? path : join(path, arrayName)) + ": " + problem);
        H5::Group sg = group(g, gPath, name);
        numAttr<int64_t>(sg, path, "channels", s.channels);
        numAttr<int64_t>(sg, path, "count", s.count);
        array(sg, path, "min", s.min);
        array(sg, path, "max", s.max);
        array(sg, path, "sum_abs", s.sumAbs);
        array(sg, path, "sum_sq", s.sumSq);
        array(sg, path, "hist", s.hist, {hsize_t(s.channels), hsize_t(kHistBins)});
    }

    std::string m_file;
    std::string m_object = "/";
};

void Writer::write(H5::H5File& f, const Session& s)
{
    H5::Group root = f.openGroup("/");
    numAttr<int32_t>(root, "/", "mqs_format_version", kSessionFormatVersion);
    stringAttr(root, "/", "producer", "MorphoQuant Workbench");

    H5::Group model = group(root, "/", "model");
    stringAttr(model, "/model", "path", s.model.path);
    stringAttr(model, "/model", "fingerprint", s.model.fingerprint);
    stringAttr(model, "/model", "architecture", s.model.architecture);
    stringAttr(model, "/model", "config_json", s.model.configJson);

    if (s.exported) {
        H5::Group ex = group(root, "/", "export");
        stringAttr(ex, "/export", "path", s.exported->path);
        stringAttr(ex, "/export", "fingerprint", s.exported->fingerprint);
    }

    H5::Group calib = group(root, "/", "calibration");
    stringAttr(calib, "/calibration", "source", s.calibration.source);
    if (!knownCalibrationKind(s.calibration.kind))
        throw InputError(m_file + ": /calibration@kind: unknown calibration kind '" + s.calibration.kind
                         + "' (expected tokens or manifest)");
    stringAttr(calib, "/calibration", "kind", s.calibration.kind);
    if (s.calibration.batchSize < 1)
        throw InputError(m_file + ": /calibration@batch_size: " + std::to_string(s.calibration.batchSize)
                         + " (expected at least 1)");
    numAttr<int64_t>(calib, "/calibration", "batch_size", s.calibration.batchSize);
    numAttr<int64_t>(calib, "/calibration", "sequences", s.calibration.sequences);
    if (!s.calibration.rotation.empty()) {
        if (!validRotationKey(s.calibration.rotation))
            throw InputError(m_file + ": /calibration@rotation: '" + s.calibration.rotation
                             + "' (expected hadamard:SEED)");
        stringAttr(calib, "/calibration", "rotation", s.calibration.rotation);
    }
    array(calib, "/calibration", "tokens_per_modality",
          std::vector<int64_t>(s.calibration.tokens.begin(), s.calibration.tokens.end()));

    H5::Group modules = group(root, "/", "modules");
    std::vector<std::string> names, kinds, inputGroups;
    std::vector<int64_t> layers, inFeatures, outFeatures;
    for (const ModuleInfo& m : s.modules) {
        names.push_back(m.name);
        kinds.push_back(m.kind);
        inputGroups.push_back(m.inputGroup);
        layers.push_back(m.layer);
        inFeatures.push_back(m.inFeatures);
        outFeatures.push_back(m.outFeatures);
    }
    strings(modules, "/modules", "name", names);
    strings(modules, "/modules", "kind", kinds);
    strings(modules, "/modules", "input_group", inputGroups);
    array(modules, "/modules", "layer", layers);
    array(modules, "/modules", "in_features", inFeatures);
    array(modules, "/modules", "out_features", outFeatures);

    strings(root, "/", "groups", s.groups);

    H5::Group stats = group(root, "/", "stats");
    for (const auto& [name, in] : s.stats) {
        checkLinkName(m_file, "/stats", name);
        const std::string gPath = join("/stats", name);
        H5::Group g = group(stats, "/stats", name);
        for (int m = 0; m < kNumModalities; ++m) {
            if (!in.perModality[m].empty())
                this->stats(g, gPath, kModalityKeys[m], in.perModality[m]);
        }
        if (!in.pooled.empty())
            this->stats(g, gPath, kPooledKey, in.pooled);
    }

    H5::Group plan = group(root, "/", "plan");
    if (s.settings)
        stringAttr(plan, "/plan", "settings_json", settingsToJson(*s.settings));
    if (s.tuning)
        stringAttr(plan, "/plan", "tuning_json", settingsToJson(*s.tuning));
    if (!s.resultsPlan.empty())
        stringAttr(plan, "/plan", "results_plan", s.resultsPlan);
    if (!s.curvesPlan.empty())
        stringAttr(plan, "/plan", "curves_plan", s.curvesPlan);
    for (const auto& [name, p] : s.plans) {
        checkLinkName(m_file, "/plan", name);
        const std::string gPath = join("/plan", name);
        const std::string problem = checkPlan(p);
        if (!problem.empty())
            throw InputError(m_file + ": " + gPath + ": " + problem);
        H5::Group g = group(plan, "/plan", name);
        array(g, gPath, "scores", p.scores);
        array(g, gPath, "mask", p.mask);
        array(g, gPath, "hand_edited", p.handEdited);
        array(g, gPath, "alpha0", p.alpha0);
        array(g, gPath, "alpha", p.alpha);
        if (!p.smooth.empty())
            array(g, gPath, "smooth", p.smooth);
        numAttr<double>(g, gPath, "tau_local", p.tauLocal);
        numAttr<double>(g, gPath, "tau_global", p.tauGlobal);
        if (p.tokenClip > 0.0)
            numAttr<double>(g, gPath, "token_clip", p.tokenClip);
    }

    H5::Group mdqfo = group(root, "/", "mdqfo");
    for (size_t i = 0; i < s.curves.size(); ++i) {
        const LossCurve& c = s.curves[i];
        checkLinkName(m_file, "/mdqfo", c.group);
        if (mdqfo.nameExists(c.group))
            throw InputError(m_file + ": " + join("/mdqfo", c.group) + ": two loss curves for one input group");
        std::vector<double> rows;
        rows.reserve(c.points.size() * 4);
        for (const LossPoint& pt : c.points)
            rows.insert(rows.end(), {double(pt.step), pt.lp, pt.lcos, pt.total});
        array(mdqfo, "/mdqfo", c.group.c_str(), rows, {hsize_t(c.points.size()), 4});
        H5::DataSet ds = mdqfo.openDataSet(c.group);
        numAttr<int64_t>(ds, join("/mdqfo", c.group), "index", int64_t(i));
    }

    H5::Group eval = group(root, "/", "eval");
    for (size_t i = 0; i < s.evals.size(); ++i) {
        const EvalResult& e = s.evals[i];
        const std::string name = std::to_string(i);
        const std::string path = join("/eval", name);
        m_object = path;
        // The attributes carry the result; the dataset itself holds nothing.
        H5::DataSet ds = eval.createDataSet(name, H5::PredType::STD_U8LE, H5::DataSpace(H5S_NULL));
        stringAttr(ds, path, "label", e.label);
        stringAttr(ds, path, "data", e.data);
        numAttr<double>(ds, path, "nll", e.nll);
        numAttr<double>(ds, path, "ppl", e.ppl);
        numAttr<int64_t>(ds, path, "tokens", e.tokens);
        if (e.kl >= 0.0)
            numAttr<double>(ds, path, "kl", e.kl);
        if (!e.plan.empty())
            stringAttr(ds, path, "plan", e.plan);
        for (int m = 0; m < kNumModalities; ++m) {
            if (e.klByModality[size_t(m)] < 0.0)
                continue;
            numAttr<double>(ds, path, (std::string("kl_") + kModalityKeys[m]).c_str(), e.klByModality[size_t(m)]);
            numAttr<int64_t>(ds, path, (std::string("tokens_") + kModalityKeys[m]).c_str(), e.tokensByModality[size_t(m)]);
        }
        // Quantized encoders' output errors: encoder_<tower>_<pooled|modality>_{tokens,sqnr_db,cosine}.
        for (const ModuleError& me : e.encoders) {
            if (me.module != "vision" && me.module != "audio")
                throw InputError(m_file + ": " + path + ": encoder error of unknown tower '" + me.module + "'");
            auto put = [&](const std::string& slot, const ErrorStat& st) {
                if (st.tokens <= 0)
                    return;
                const std::string k = "encoder_" + me.module + "_" + slot + "_";
                numAttr<int64_t>(ds, path, (k + "tokens").c_str(), st.tokens);
                numAttr<double>(ds, path, (k + "sqnr_db").c_str(), st.sqnrDb);
                numAttr<double>(ds, path, (k + "cosine").c_str(), st.cosine);
            };
            put("pooled", me.pooled);
            for (int m = 0; m < kNumModalities; ++m)
                put(kModalityKeys[m], me.perModality[size_t(m)]);
        }
    }

    if (!s.weights.empty()) {
        H5::Group weights = group(root, "/", "weights");
        for (const auto& [name, sw] : s.weights) {
            checkLinkName(m_file, "/weights", name);
            const std::string gPath = join("/weights", name);
            const std::string problem = checkStoredWeight(sw);
            if (!problem.empty())
                throw InputError(m_file + ": " + gPath + ": " + problem);
            H5::Group g = group(weights, "/weights", name);
            numAttr<int64_t>(g, gPath, "bits", sw.bits);
            numAttr<int64_t>(g, gPath, "group_size", sw.groupSize);
            numAttr<int64_t>(g, gPath, "symmetric", sw.symmetric ? 1 : 0);
            if (sw.format != "int")
                stringAttr(g, gPath, "format", sw.format);
            if (sw.globalScale != 0.f)
                numAttr<double>(g, gPath, "global_scale", double(sw.globalScale));
            array(g, gPath, "codes", sw.codes, {hsize_t(sw.rows), hsize_t(sw.cols)});
            const hsize_t groups = hsize_t((sw.cols + sw.groupSize - 1) / sw.groupSize);
            array(g, gPath, "scales", sw.scales, {hsize_t(sw.rows), groups});
            if (!sw.symmetric)
                array(g, gPath, "zeros", sw.zeros, {hsize_t(sw.rows), groups});
        }
    }

    if (!s.errors.empty()) {
        H5::Group errors = group(root, "/", "errors");
        std::vector<std::string> names;
        std::vector<double> values;
        values.reserve(s.errors.size() * kErrorRows * kErrorColumns);
        for (size_t i = 0; i < s.errors.size(); ++i) {
            const ModuleError& me = s.errors[i];
            const std::string problem = checkModuleError(me);
            if (!problem.empty())
                throw InputError(m_file + ": /errors/values: module " + std::to_string(i) + " ('" + me.module
                                 + "'): " + problem);
            names.push_back(me.module);
            for (int r = 0; r < kErrorRows; ++r) {
                const ErrorStat& e = r < kNumModalities ? me.perModality[size_t(r)] : me.pooled;
                values.push_back(double(e.tokens));
                values.push_back(e.sqnrDb);
                values.push_back(e.cosine);
            }
        }
        strings(errors, "/errors", "module", names);
        array(errors, "/errors", "values", values,
              {hsize_t(s.errors.size()), hsize_t(kErrorRows), hsize_t(kErrorColumns)});
    }
}

class Reader {
public:
    explicit Reader(std::string file) : m_file(std::move(file)) {}

    Session read(H5::H5File& f);

    const std::string& object() const { return m_object; }
    const std::string& expected() const { return m_expected; }

private:
    int64_t m_version = kSessionFormatVersion; // of the file being read
    // A dataset cannot expand to more than deflate's ratio (about 1032:1) times the file: more
    // elements than that is a damaged dataspace, refused before anything is allocated.
    void checkSize(uint64_t elements, size_t elemBytes) const
    {
        std::error_code ec;
        const uint64_t fileBytes = uint64_t(std::filesystem::file_size(m_file, ec));
        const uint64_t limit = (ec ? uint64_t(1) << 30 : fileBytes) * 1100 + (uint64_t(1) << 20);
        if (elements > limit / std::max<size_t>(1, elemBytes))
            fail(m_object, std::to_string(elements) + " elements cannot come from a file of " + std::to_string(fileBytes)
                               + " bytes; the file is corrupt");
    }
    [[noreturn]] void fail(const std::string& object, const std::string& what) const
    {
        throw InputError(m_file + ": " + object + ": " + what);
    }
    void require(const H5::Group& g, const std::string& gPath, const std::string& name, const std::string& what)
    {
        m_object = join(gPath, name);
        m_expected = what;
        if (!g.nameExists(name))
            fail(m_object, "missing; expected " + what);
    }
    H5::Group group(const H5::Group& parent, const std::string& parentPath, const std::string& name)
    {
        require(parent, parentPath, name, "a group");
        if (parent.childObjType(name) != H5O_TYPE_GROUP)
            fail(m_object, "expected a group");
        return parent.openGroup(name);
    }
    H5::Attribute attr(const H5::H5Object& obj, const std::string& objPath, const char* name,
                       H5T_class_t cls, const char* what)
    {
        m_object = objPath + "@" + name;
        m_expected = std::string("a scalar ") + what + " attribute";
        if (!obj.attrExists(name))
            fail(m_object, "missing; expected " + m_expected);
        H5::Attribute a = obj.openAttribute(name);
        if (a.getTypeClass() != cls || a.getSpace().getSimpleExtentNpoints() != 1)
            fail(m_object, "expected " + m_expected);
        return a;
    }
    std::string stringAttr(const H5::H5Object& obj, const std::string& objPath, const char* name)
    {
        H5::Attribute a = attr(obj, objPath, name, H5T_STRING, "UTF-8 string");
        const H5::StrType ft = a.getStrType();
        if (!ft.isVariableStr()) { // format 2: the bytes are in the attribute
            const size_t n = ft.getSize();
            if (n == 0 || n > kMaxStringBytes)
                fail(m_object, "a string of " + std::to_string(n) + " bytes; the file is corrupt");
            std::vector<char> buf(n, '\0');
            a.read(ft, buf.data());
            return std::string(buf.data(), strnlen(buf.data(), n));
        }
        if (m_version >= 2)
            fail(m_object, "a variable-length string in a format-2 session (expected fixed-length); the file is "
                           "corrupt");
        // Format 1 (variable-length) through the C API: the C++ API's std::string read runs strlen on whatever pointer the
        // file's heap gives, and a damaged heap gives a null one (a crash the fuzzer found).
        const H5::StrType t = utf8Type();
        char* p = nullptr;
        if (H5Aread(a.getId(), t.getId(), &p) < 0)
            fail(m_object, "unreadable; expected " + m_expected);
        std::string v = p ? std::string(p) : std::string();
        if (p)
            H5free_memory(p);
        return v;
    }
    template <class T> T numAttr(const H5::H5Object& obj, const std::string& objPath, const char* name)
    {
        H5::Attribute a = attr(obj, objPath, name, H5Of<T>::cls, H5Of<T>::name);
        T v{};
        a.read(H5Of<T>::mem(), &v);
        return v;
    }
    template <class T>
    std::vector<T> array(const H5::Group& g, const std::string& gPath, const char* name, int rank = 1,
                         std::vector<hsize_t>* dimsOut = nullptr)
    {
        const std::string what = std::string("a ") + H5Of<T>::name + " dataset of rank " + std::to_string(rank);
        require(g, gPath, name, what);
        if (g.childObjType(name) != H5O_TYPE_DATASET)
            fail(m_object, "expected " + what);
        H5::DataSet ds = g.openDataSet(name);
        H5::DataSpace space = ds.getSpace();
        if (ds.getTypeClass() != H5Of<T>::cls || !space.isSimple() || space.getSimpleExtentNdims() != rank)
            fail(m_object, "expected " + what);
        std::vector<hsize_t> dims(rank);
        space.getSimpleExtentDims(dims.data());
        checkSize(uint64_t(space.getSimpleExtentNpoints()), sizeof(T));
        std::vector<T> v(size_t(space.getSimpleExtentNpoints()));
        if (!v.empty())
            ds.read(v.data(), H5Of<T>::mem());
        if (dimsOut)
            *dimsOut = dims;
        return v;
    }
    std::vector<std::string> strings(const H5::Group& g, const std::string& gPath, const char* name)
    {
        const std::string what = "a 1-D dataset of UTF-8 strings";
        require(g, gPath, name, what);
        if (g.childObjType(name) != H5O_TYPE_DATASET)
            fail(m_object, "expected " + what);
        H5::DataSet ds = g.openDataSet(name);
        H5::DataSpace space = ds.getSpace();
        if (ds.getTypeClass() != H5T_STRING || !space.isSimple() || space.getSimpleExtentNdims() != 1)
            fail(m_object, "expected " + what);
        const H5::StrType ft = ds.getStrType();
        if (!ft.isVariableStr()) { // format 2: fixed width, NUL-padded
            const size_t width = ft.getSize(), n = size_t(space.getSimpleExtentNpoints());
            if (width == 0 || width > kMaxStringBytes || (n && width * n / n != width) || width * n > kMaxStringBytes)
                fail(m_object, std::to_string(n) + " strings of " + std::to_string(width) + " bytes; the file is corrupt");
            std::vector<char> buf(width * n, '\0');
            if (n)
                ds.read(buf.data(), ft);
            std::vector<std::string> v;
            for (size_t i = 0; i < n; ++i)
                v.emplace_back(buf.data() + i * width, strnlen(buf.data() + i * width, width));
            return v;
        }
        if (m_version >= 2)
            fail(m_object, "variable-length strings in a format-2 session (expected fixed-length); the file is corrupt");
        checkSize(uint64_t(space.getSimpleExtentNpoints()), sizeof(char*));
        std::vector<char*> ptrs(size_t(space.getSimpleExtentNpoints()), nullptr);
        if (ptrs.empty())
            return {};
        const H5::StrType t = utf8Type();
        ds.read(ptrs.data(), t);
        std::vector<std::string> v;
        v.reserve(ptrs.size());
        for (char* p : ptrs)
            v.emplace_back(p ? p : "");
        H5::DataSet::vlenReclaim(ptrs.data(), t, space);
        return v;
    }
    // Children of a group in name order, for the groups keyed by input group.
    std::vector<std::string> children(const H5::Group& g)
    {
        std::vector<std::string> out;
        const hsize_t n = g.getNumObjs();
        for (hsize_t i = 0; i < n; ++i)
            out.push_back(g.getObjnameByIdx(i));
        return out;
    }
    ChannelStats stats(const H5::Group& g, const std::string& gPath, const std::string& name)
    {
        const std::string path = join(gPath, name);
        H5::Group sg = group(g, gPath, name);
        ChannelStats s;
        s.channels = numAttr<int64_t>(sg, path, "channels");
        s.count = numAttr<int64_t>(sg, path, "count");
        s.min = array<float>(sg, path, "min");
        s.max = array<float>(sg, path, "max");
        s.sumAbs = array<double>(sg, path, "sum_abs");
        s.sumSq = array<double>(sg, path, "sum_sq");
        std::vector<hsize_t> dims;
        s.hist = array<uint32_t>(sg, path, "hist", 2, &dims);
        if (dims[1] != hsize_t(kHistBins))
            fail(join(path, "hist"), "has " + std::to_string(dims[1]) + " bins per channel, expected "
                                         + std::to_string(kHistBins));
        std::string arrayName;
        const std::string problem = checkStats(s, &arrayName);
        if (!problem.empty())
            fail(arrayName.empty() ? path : join(path, arrayName), problem);
        return s;
    }

    std::string m_file;
    std::string m_object = "/";
    std::string m_expected = "an HDF5 session file";
};

Session Reader::read(H5::H5File& f)
{
    Session s;
    H5::Group root = f.openGroup("/");
    m_object = "/@mqs_format_version";
    if (!root.attrExists("mqs_format_version"))
        fail("/", "not a MorphoQuant session: the root attribute mqs_format_version is missing");
    const int64_t version = numAttr<int64_t>(root, "/", "mqs_format_version");
    m_version = version;
    if (version > kSessionFormatVersion)
        fail("/@mqs_format_version", "session format version " + std::to_string(version)
                                         + " is newer than this build reads (up to "
                                         + std::to_string(kSessionFormatVersion) + "); update MorphoQuant");
    if (version < 1)
        fail("/@mqs_format_version", "invalid session format version " + std::to_string(version));

    H5::Group model = group(root, "/", "model");
    s.model.path = stringAttr(model, "/model", "path");
    s.model.fingerprint = stringAttr(model, "/model", "fingerprint");
    s.model.architecture = stringAttr(model, "/model", "architecture");
    s.model.configJson = stringAttr(model, "/model", "config_json");

    if (root.nameExists("export")) { // optional: sessions saved with an export
        H5::Group ex = group(root, "/", "export");
        ExportRef r;
        r.path = stringAttr(ex, "/export", "path");
        r.fingerprint = stringAttr(ex, "/export", "fingerprint");
        s.exported = r;
    }

    H5::Group calib = group(root, "/", "calibration");
    s.calibration.source = stringAttr(calib, "/calibration", "source");
    // kind and batch_size came after version 1's first files: absent means the defaults.
    if (calib.attrExists("kind")) {
        s.calibration.kind = stringAttr(calib, "/calibration", "kind");
        if (!knownCalibrationKind(s.calibration.kind))
            fail("/calibration@kind", "unknown calibration kind '" + s.calibration.kind + "'; expected tokens or manifest");
    }
    if (calib.attrExists("batch_size")) {
        const int64_t batch = numAttr<int64_t>(calib, "/calibration", "batch_size");
        if (batch < 1 || batch > std::numeric_limits<int>::max())
            fail("/calibration@batch_size", "batch size " + std::to_string(batch) + " out of range; expected 1.."
                                                + std::to_string(std::numeric_limits<int>::max()));
        s.calibration.batchSize = int(batch);
    }
    s.calibration.sequences = numAttr<int64_t>(calib, "/calibration", "sequences");
    if (calib.attrExists("rotation")) {
        s.calibration.rotation = stringAttr(calib, "/calibration", "rotation");
        if (!validRotationKey(s.calibration.rotation))
            fail("/calibration@rotation", "'" + s.calibration.rotation + "'; expected hadamard:SEED");
    }
    const std::vector<int64_t> tokens = array<int64_t>(calib, "/calibration", "tokens_per_modality");
    if (tokens.size() != size_t(kNumModalities))
        fail("/calibration/tokens_per_modality", std::to_string(tokens.size()) + " values, expected "
                                                     + std::to_string(kNumModalities) + " (one per modality)");
    std::copy(tokens.begin(), tokens.end(), s.calibration.tokens.begin());

    H5::Group modules = group(root, "/", "modules");
    const auto names = strings(modules, "/modules", "name");
    const auto kinds = strings(modules, "/modules", "kind");
    const auto inputGroups = strings(modules, "/modules", "input_group");
    const auto layers = array<int64_t>(modules, "/modules", "layer");
    const auto inFeatures = array<int64_t>(modules, "/modules", "in_features");
    const auto outFeatures = array<int64_t>(modules, "/modules", "out_features");
    const std::pair<const char*, size_t> columns[] = {{"kind", kinds.size()},
                                                      {"input_group", inputGroups.size()},
                                                      {"layer", layers.size()},
                                                      {"in_features", inFeatures.size()},
                                                      {"out_features", outFeatures.size()}};
    for (const auto& [column, n] : columns) {
        if (n != names.size())
            fail(join("/modules", column), std::to_string(n) + " values, expected " + std::to_string(names.size())
                                               + " (one per module, as /modules/name)");
    }
    for (size_t i = 0; i < names.size(); ++i) {
        if (layers[i] < std::numeric_limits<int>::min() || layers[i] > std::numeric_limits<int>::max())
            fail("/modules/layer", "layer index " + std::to_string(layers[i]) + " out of range");
        s.modules.push_back({names[i], int(layers[i]), kinds[i], inputGroups[i], inFeatures[i], outFeatures[i]});
    }

    s.groups = strings(root, "/", "groups");

    H5::Group stats = group(root, "/", "stats");
    for (const std::string& name : children(stats)) {
        const std::string gPath = join("/stats", name);
        H5::Group g = group(stats, "/stats", name);
        InputStats& in = s.stats[name];
        for (const std::string& child : children(g)) {
            int m = 0;
            while (m < kNumModalities && child != kModalityKeys[m])
                ++m;
            if (m < kNumModalities)
                in.perModality[m] = this->stats(g, gPath, child);
            else if (child == kPooledKey)
                in.pooled = this->stats(g, gPath, child);
            else
                fail(join(gPath, child), "unknown modality; expected text, image, video, audio or pooled");
        }
    }

    H5::Group plan = group(root, "/", "plan");
    if (plan.attrExists("settings_json"))
        s.settings = settingsFromJson(stringAttr(plan, "/plan", "settings_json"), m_file + ": /plan@settings_json");
    if (plan.attrExists("tuning_json"))
        s.tuning = settingsFromJson(stringAttr(plan, "/plan", "tuning_json"), m_file + ": /plan@tuning_json");
    if (plan.attrExists("results_plan"))
        s.resultsPlan = stringAttr(plan, "/plan", "results_plan");
    if (plan.attrExists("curves_plan"))
        s.curvesPlan = stringAttr(plan, "/plan", "curves_plan");
    for (const std::string& name : children(plan)) {
        const std::string gPath = join("/plan", name);
        H5::Group g = group(plan, "/plan", name);
        GroupPlan p;
        p.scores = array<double>(g, gPath, "scores");
        p.mask = array<uint8_t>(g, gPath, "mask");
        p.handEdited = array<uint8_t>(g, gPath, "hand_edited");
        p.alpha0 = array<float>(g, gPath, "alpha0");
        p.alpha = array<float>(g, gPath, "alpha");
        if (g.nameExists("smooth"))
            p.smooth = array<float>(g, gPath, "smooth");
        p.tauLocal = numAttr<double>(g, gPath, "tau_local");
        p.tauGlobal = numAttr<double>(g, gPath, "tau_global");
        if (g.attrExists("token_clip")) {
            p.tokenClip = numAttr<double>(g, gPath, "token_clip");
            if (!(p.tokenClip > 0.0 && p.tokenClip <= 1.0))
                fail(gPath + "@token_clip", std::to_string(p.tokenClip) + "; expected a clip ratio in (0, 1]");
        }
        const std::string problem = checkPlan(p);
        if (!problem.empty())
            fail(gPath, problem);
        s.plans[name] = std::move(p);
    }

    H5::Group mdqfo = group(root, "/", "mdqfo");
    const std::vector<std::string> curveNames = children(mdqfo);
    s.curves.resize(curveNames.size());
    std::vector<bool> seen(curveNames.size(), false);
    for (const std::string& name : curveNames) {
        std::vector<hsize_t> dims;
        const std::vector<double> rows = array<double>(mdqfo, "/mdqfo", name.c_str(), 2, &dims);
        const std::string path = join("/mdqfo", name);
        if (dims[1] != 4)
            fail(path, "has " + std::to_string(dims[1]) + " columns, expected 4 (step, L_p, L_cos, total)");
        const int64_t index = numAttr<int64_t>(mdqfo.openDataSet(name), path, "index");
        if (index < 0 || size_t(index) >= curveNames.size() || seen[size_t(index)])
            fail(path + "@index", "index " + std::to_string(index) + " is out of range or repeated; expected 0.."
                                      + std::to_string(curveNames.size() - 1) + ", each once");
        seen[size_t(index)] = true;
        LossCurve& c = s.curves[size_t(index)];
        c.group = name;
        for (size_t r = 0; r < dims[0]; ++r) {
            const double step = rows[r * 4];
            if (!(std::floor(step) == step && std::fabs(step) <= double(std::numeric_limits<int>::max())))
                fail(path, "step " + std::to_string(step) + " in row " + std::to_string(r) + " is not an integer");
            c.points.push_back({int(step), rows[r * 4 + 1], rows[r * 4 + 2], rows[r * 4 + 3]});
        }
    }

    H5::Group eval = group(root, "/", "eval");
    const hsize_t evalCount = eval.getNumObjs();
    for (hsize_t i = 0; i < evalCount; ++i) {
        const std::string name = std::to_string(i);
        const std::string path = join("/eval", name);
        require(eval, "/eval", name, "results numbered 0.." + std::to_string(evalCount - 1));
        H5::DataSet ds = eval.openDataSet(name);
        EvalResult e;
        e.label = stringAttr(ds, path, "label");
        e.data = stringAttr(ds, path, "data");
        e.nll = numAttr<double>(ds, path, "nll");
        e.ppl = numAttr<double>(ds, path, "ppl");
        e.tokens = numAttr<int64_t>(ds, path, "tokens");
        if (ds.attrExists("plan"))
            e.plan = stringAttr(ds, path, "plan");
        if (ds.attrExists("kl")) { // optional: measured beside the full-precision model
            e.kl = numAttr<double>(ds, path, "kl");
            if (!(e.kl >= 0.0) || !std::isfinite(e.kl))
                fail(path + "@kl", "KL divergence " + std::to_string(e.kl) + "; expected a finite value >= 0");
        }
        for (int m = 0; m < kNumModalities; ++m) { // optional: per modality
            const std::string key = std::string("kl_") + kModalityKeys[m];
            if (!ds.attrExists(key))
                continue;
            const double v = numAttr<double>(ds, path, key.c_str());
            if (!(v >= 0.0) || !std::isfinite(v))
                fail(path + "@" + key, "KL divergence " + std::to_string(v) + "; expected a finite value >= 0");
            e.klByModality[size_t(m)] = v;
            const std::string tk = std::string("tokens_") + kModalityKeys[m];
            if (ds.attrExists(tk))
                e.tokensByModality[size_t(m)] = numAttr<int64_t>(ds, path, tk.c_str());
        }
        for (const char* tower : {"vision", "audio"}) { // optional: quantized encoders' output errors
            auto get = [&](const std::string& slot, ErrorStat* st) {
                const std::string k = std::string("encoder_") + tower + "_" + slot + "_";
                if (!ds.attrExists(k + "tokens"))
                    return false;
                st->tokens = numAttr<int64_t>(ds, path, (k + "tokens").c_str());
                st->sqnrDb = numAttr<double>(ds, path, (k + "sqnr_db").c_str());
                st->cosine = numAttr<double>(ds, path, (k + "cosine").c_str());
                if (st->tokens <= 0 || !std::isfinite(st->sqnrDb) || !std::isfinite(st->cosine))
                    fail(path + "@" + k + "*", "tokens " + std::to_string(st->tokens) + ", SQNR "
                                                   + std::to_string(st->sqnrDb) + " dB, cosine "
                                                   + std::to_string(st->cosine) + "; expected tokens > 0 and finite figures");
                return true;
            };
            ModuleError me;
            me.module = tower;
            if (!get("pooled", &me.pooled))
                continue;
            for (int m = 0; m < kNumModalities; ++m)
                get(kModalityKeys[m], &me.perModality[size_t(m)]);
            e.encoders.push_back(std::move(me));
        }
        s.evals.push_back(std::move(e));
    }

    if (root.nameExists("weights")) { // optional: plans without GPTQ have none
        H5::Group weights = group(root, "/", "weights");
        for (const std::string& name : children(weights)) {
            const std::string gPath = join("/weights", name);
            H5::Group g = group(weights, "/weights", name);
            StoredWeight sw;
            const int64_t bits = numAttr<int64_t>(g, gPath, "bits");
            if (bits < 2 || bits > 8)
                fail(gPath + "@bits", std::to_string(bits) + " bits; expected 2..8");
            sw.bits = int(bits);
            sw.groupSize = numAttr<int64_t>(g, gPath, "group_size");
            sw.symmetric = numAttr<int64_t>(g, gPath, "symmetric") != 0;
            if (g.attrExists("format"))
                sw.format = stringAttr(g, gPath, "format");
            if (g.attrExists("global_scale"))
                sw.globalScale = float(numAttr<double>(g, gPath, "global_scale"));
            std::vector<hsize_t> dims;
            sw.codes = array<uint8_t>(g, gPath, "codes", 2, &dims);
            sw.rows = int64_t(dims[0]);
            sw.cols = int64_t(dims[1]);
            sw.scales = array<float>(g, gPath, "scales", 2, &dims);
            if (!sw.symmetric)
                sw.zeros = array<float>(g, gPath, "zeros", 2, &dims);
            const std::string problem = checkStoredWeight(sw);
            if (!problem.empty())
                fail(gPath, problem);
            s.weights[name] = std::move(sw);
        }
    }

    if (root.nameExists("errors")) { // optional: files from before layer errors have none
        H5::Group errors = group(root, "/", "errors");
        const std::vector<std::string> names = strings(errors, "/errors", "module");
        std::vector<hsize_t> dims;
        const std::vector<double> values = array<double>(errors, "/errors", "values", 3, &dims);
        if (dims[0] != names.size() || dims[1] != hsize_t(kErrorRows) || dims[2] != hsize_t(kErrorColumns))
            fail("/errors/values", "has shape [" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ", "
                                       + std::to_string(dims[2]) + "], expected [" + std::to_string(names.size())
                                       + ", 5, 3] (one row per module of /errors/module; text, image, video, audio, "
                                         "pooled; tokens, sqnr_db, cosine)");
        for (size_t i = 0; i < names.size(); ++i) {
            ModuleError me;
            me.module = names[i];
            for (int r = 0; r < kErrorRows; ++r) {
                const double* v = values.data() + (i * kErrorRows + size_t(r)) * kErrorColumns;
                ErrorStat& e = r < kNumModalities ? me.perModality[size_t(r)] : me.pooled;
                if (!(v[0] >= 0.0 && v[0] <= kMaxExactInteger && std::floor(v[0]) == v[0]))
                    fail("/errors/values", "module " + std::to_string(i) + " ('" + names[i] + "'), row "
                                               + (r < kNumModalities ? kModalityKeys[r] : kPooledKey) + ": token count "
                                               + std::to_string(v[0]) + " is not a whole number >= 0");
                e.tokens = int64_t(v[0]);
                e.sqnrDb = v[1];
                e.cosine = v[2];
            }
            const std::string problem = checkModuleError(me);
            if (!problem.empty())
                fail("/errors/values", "module " + std::to_string(i) + " ('" + names[i] + "'): " + problem);
            s.errors.push_back(std::move(me));
        }
    }
    return s;
}

std::string tempPathFor(const std::string& target)
{
    static std::atomic<int> counter{0};
    return target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

constexpr size_t kUserBlock = 512;
const char kChecksumMagic[] = "MQS-CHECKSUM 1\n";

H5::H5File createFile(const std::string& temp, const std::string& target)
{
    try {
        H5::FileCreatPropList fcpl;
        fcpl.setUserblock(kUserBlock); // the checksum header (see session_store.h)
        return H5::H5File(temp, H5F_ACC_TRUNC, fcpl, fileAccess());
    } catch (const H5::Exception& e) {
        throw Error(target + ": cannot create the temp file " + temp
                    + " beside it; does the folder exist and is it writable? (HDF5: " + e.getDetailMsg() + ")");
    }
}

// crc32 of the bytes of fd from `from` to the end, and the file's size.
std::pair<uint32_t, uint64_t> crcFrom(int fd, uint64_t from, const std::string& path)
{
    std::vector<unsigned char> buf(size_t(4) << 20);
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t off = from;
    for (;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), off_t(off));
        if (n < 0)
            throw Error(path + ": cannot read for the checksum: " + std::strerror(errno));
        if (n == 0)
            break;
        crc = crc32(crc, buf.data(), uInt(n));
        off += uint64_t(n);
    }
    return {uint32_t(crc), off};
}

// Writes the checksum header into the user block of the finished temp file.
void writeChecksum(const std::string& temp)
{
    const int fd = ::open(temp.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw Error(temp + ": cannot reopen to write the checksum: " + std::strerror(errno));
    try {
        const auto [crc, size] = crcFrom(fd, kUserBlock, temp);
        char header[kUserBlock] = {};
        std::snprintf(header, sizeof header, "%scrc32 %08x\nbytes %llu\n", kChecksumMagic, crc,
                      static_cast<unsigned long long>(size));
        if (::pwrite(fd, header, sizeof header, 0) != ssize_t(sizeof header))
            throw Error(temp + ": cannot write the checksum: " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

// Checks the checksum header of a session file; InputError for a mismatch. Files without the
// user block (written before it existed) pass unchecked.
void verifyChecksum(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw InputError(path + ": cannot open session: " + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    static const unsigned char hdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[kUserBlock + 8] = {};
    const ssize_t n = ::pread(fd, head, sizeof head, 0);
    if (n >= 8 && std::memcmp(head, hdf5Signature, 8) == 0)
        return; // superblock at 0: a session written before the checksum
    const bool userBlockFile = n == ssize_t(sizeof head) && std::memcmp(head + kUserBlock, hdf5Signature, 8) == 0;
    const bool magic = n >= ssize_t(sizeof kChecksumMagic - 1)
        && std::memcmp(head, kChecksumMagic, sizeof kChecksumMagic - 1) == 0;
    if (!userBlockFile && !magic)
        throw InputError(path + ": not a session file: not HDF5 (no HDF5 signature, no session checksum header)");
    unsigned crcWant = 0;
    unsigned long long sizeWant = 0;
    const std::string text(reinterpret_cast<const char*>(head), kUserBlock);
    if (!magic
        || std::sscanf(text.c_str() + sizeof kChecksumMagic - 1, "crc32 %8x\nbytes %llu\n", &crcWant, &sizeWant) != 2)
        throw InputError(path + ": the session's checksum header is damaged; the file is corrupt");
    const auto [crc, size] = crcFrom(fd, kUserBlock, path);
    if (size != sizeWant)
        throw InputError(path + ": the session file is " + std::to_string(size) + " bytes, its checksum header says "
                         + std::to_string(sizeWant) + "; the file is truncated or corrupt");
    if (crc != crcWant) {
        char got[16];
        std::snprintf(got, sizeof got, "%08x", crc);
        char want[16];
        std::snprintf(want, sizeof want, "%08x", crcWant);
        throw InputError(path + ": checksum mismatch (crc32 " + got + ", written " + want
                         + "): the file changed after it was written and is corrupt; nothing was read");
    }
}

} // namespace

void saveSession(const Session& s, const std::string& path)
{
    removeStaleTemporaries(path);
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    H5::Exception::dontPrint();
    const std::string temp = tempPathFor(path);
    Writer writer(path);
    try {
        {
            H5::H5File f = createFile(temp, path);
            writer.write(f, s);
            f.close();
        }
        writeChecksum(temp);
        commitTempFile(temp, path);
    } catch (const H5::Exception& e) {
        std::remove(temp.c_str());
        // A failed write is the disk's or the library's doing, not bad input: plain Error.
        throw Error(path + ": " + writer.object() + ": cannot write session (HDF5: " + e.getDetailMsg() + ")");
    } catch (...) {
        std::remove(temp.c_str());
        throw;
    }
}

void resealSession(const std::string& path)
{
    unsigned char sig[8] = {};
    {
        std::ifstream in(path, std::ios::binary);
        in.seekg(std::streamoff(kUserBlock));
        in.read(reinterpret_cast<char*>(sig), 8);
    }
    if (std::memcmp(sig, "\x89HDF\r\n\x1a\n", 8) == 0)
        writeChecksum(path);
}

Session loadSession(const std::string& path)
{
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status))
        throw InputError(path + ": cannot open session: no such file");
    if (!std::filesystem::is_regular_file(status))
        throw InputError(path + ": cannot open session: not a regular file");
    verifyChecksum(path); // before HDF5 parses anything
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    H5::Exception::dontPrint();
    Reader reader(path);
    try {
        if (!H5::H5File::isHdf5(path))
            throw InputError(path + ": not a session file: not HDF5 (a .mqs session is an HDF5 file)");
        H5::H5File f;
        try {
            f.openFile(path, H5F_ACC_RDONLY, fileAccess());
        } catch (const H5::Exception& e) {
            throw InputError(path + ": cannot open as HDF5; the file is truncated or corrupt (HDF5: "
                             + e.getDetailMsg() + ")");
        }
        return reader.read(f);
    } catch (const H5::Exception& e) {
        throw InputError(path + ": " + reader.object() + ": cannot read; expected " + reader.expected()
                         + "; the file is corrupt (HDF5: " + e.getDetailMsg() + ")");
    } catch (const std::length_error&) { // a dataset claiming more elements than memory can hold
        throw InputError(path + ": " + reader.object() + ": its size is impossible; expected " + reader.expected()
                         + "; the file is corrupt");
    } catch (const std::bad_alloc&) {
        throw InputError(path + ": " + reader.object() + ": too large to read; expected " + reader.expected()
                         + "; the file is corrupt");
    }
}

} // namespace mq::core
