#include "io/checkpoint.h"

#include "common/error.h"
#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

namespace mq::core {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

bool isFile(const fs::path& p)
{
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

} // namespace

Checkpoint::Checkpoint(const std::string& dir) : m_dir(dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw InputError(describe(dir, "", "is not a folder; expected a checkpoint folder with "
                                           + std::string(kSingleName) + " or " + kIndexName));
    const fs::path indexPath = fs::path(dir) / kIndexName;
    const fs::path singlePath = fs::path(dir) / kSingleName;

    if (isFile(indexPath)) {
        m_sharded = true;
        const std::string index = indexPath.string();
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(readTextFile(index));
        } catch (const nlohmann::json::exception& e) {
            throw InputError(describe(index, "", std::string("not valid JSON: ") + e.what()));
        }
        if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
            throw InputError(describe(index, "", "expected an object with a \"weight_map\" object"
                                                 " (tensor name -> shard file)"));
        for (const auto& [name, file] : j["weight_map"].items()) {
            if (!file.is_string() || file.get<std::string>().empty())
                throw InputError(describe(index, name, "\"weight_map\" entry is " + file.dump()
                                                           + ", expected a shard file name"));
            m_weightMap[name] = file.get<std::string>();
        }
        // Checked now rather than on first load: a missing shard should stop a job before
        // hours of calibration, not in the middle of it.
        std::set<std::string> checked;
        for (const auto& [name, file] : m_weightMap) {
            if (!checked.insert(file).second)
                continue;
            if (!isFile(fs::path(dir) / file))
                throw InputError(describe(index, name, "shard '" + file
                                                           + "' named by \"weight_map\" is missing"
                                                             " from "
                                                           + dir));
        }
        return;
    }

    if (isFile(singlePath)) {
        // A single file has no index: its header is the only list of tensors, so open it now.
        auto file = std::make_unique<SafetensorsFile>(singlePath.string());
        for (const auto& [name, info] : file->tensors())
            m_weightMap[name] = kSingleName;
        m_open[kSingleName] = std::move(file);
        return;
    }

    throw InputError(describe(dir, "", "no checkpoint here: expected " + std::string(kSingleName)
                                           + " or " + kIndexName));
}

std::vector<std::string> Checkpoint::tensorNames() const
{
    std::vector<std::string> out;
    out.reserve(m_weightMap.size());
    for (const auto& [name, file] : m_weightMap)
        out.push_back(name);
    for (const auto& [name, d] : m_derived)
        if (!m_weightMap.count(name))
            out.push_back(name);
    return out;
}

const TensorInfo& Checkpoint::storedInfo(const std::string& name)
{
    if (!m_weightMap.count(name))
        throw InputError(describe(m_dir, name, "no such stored tensor in this checkpoint"));
    return shard(m_weightMap.at(name)).info(name);
}

at::Tensor Checkpoint::storedView(const std::string& name)
{
    if (!m_weightMap.count(name))
        throw InputError(describe(m_dir, name, "no such stored tensor in this checkpoint"));
    return shard(m_weightMap.at(name)).view(name);
}

void Checkpoint::addDerived(const TensorInfo& info, const std::string& from, DerivedTensor make)
{
    m_derived[info.name] = Derived{info, from, std::move(make)};
}

std::string Checkpoint::fileOf(const std::string& name) const
{
    auto it = m_weightMap.find(name);
    if (it == m_weightMap.end()) {
        auto d = m_derived.find(name);
        if (d != m_derived.end() && d->second.from != name)
            return fileOf(d->second.from);
        throw InputError(describe(m_dir, name, "no such tensor in this checkpoint"));
    }
    return (fs::path(m_dir) / it->second).string();
}

const TensorInfo& Checkpoint::info(const std::string& name)
{
    if (auto d = m_derived.find(name); d != m_derived.end())
        return d->second.info;
    fileOf(name); // throws with the checkpoint folder named when the tensor is unknown
    return shard(m_weightMap.at(name)).info(name);
}

at::Tensor Checkpoint::load(const std::string& name)
{
    if (auto d = m_derived.find(name); d != m_derived.end())
        return d->second.make(*this);
    fileOf(name);
    return shard(m_weightMap.at(name)).load(name);
}

at::Tensor Checkpoint::loadFloat(const std::string& name)
{
    if (auto d = m_derived.find(name); d != m_derived.end())
        return d->second.make(*this).to(at::kFloat);
    fileOf(name);
    return shard(m_weightMap.at(name)).loadFloat(name);
}

at::Tensor Checkpoint::view(const std::string& name)
{
    if (auto d = m_derived.find(name); d != m_derived.end())
        return d->second.make(*this);
    fileOf(name);
    return shard(m_weightMap.at(name)).view(name);
}

void Checkpoint::release(const std::string& name)
{
    if (m_derived.count(name))
        return;
    fileOf(name);
    shard(m_weightMap.at(name)).release(name);
}

uint64_t Checkpoint::dataBytes()
{
    uint64_t n = 0;
    for (const auto& [name, file] : m_weightMap) {
        const TensorInfo& ti = shard(file).info(name);
        n += ti.end - ti.begin;
    }
    return n;
}

std::vector<std::string> Checkpoint::files() const
{
    if (!m_sharded) // even when the file holds no tensors at all
        return {(fs::path(m_dir) / kSingleName).string()};
    std::set<std::string> paths;
    for (const auto& [name, file] : m_weightMap)
        paths.insert((fs::path(m_dir) / file).string());
    return {paths.begin(), paths.end()};
}

SafetensorsFile& Checkpoint::shard(const std::string& file)
{
    auto it = m_open.find(file);
    if (it == m_open.end())
        it = m_open.emplace(file, std::make_unique<SafetensorsFile>((fs::path(m_dir) / file).string()))
                 .first;
    return *it->second;
}

const TensorInfo& Checkpoint::infoChecked(const std::string& name, const std::vector<int64_t>& shape,
                                          const std::string& origin)
{
    if (!contains(name))
        throw InputError(describe(m_dir, name, "missing from the checkpoint (expected shape " + shapeText(shape)
                                                   + " from " + origin + ")"));
    const TensorInfo& ti = info(name);
    if (ti.dtype != DType::F32 && ti.dtype != DType::F16 && ti.dtype != DType::BF16 && ti.dtype != DType::F64)
        throw InputError(describe(fileOf(name), name, std::string("dtype is ") + dtypeName(ti.dtype)
                                                          + ", expected a floating dtype (F32, F16, BF16"
                                                            " or F64) to load as float32"));
    if (ti.shape != shape)
        throw InputError(describe(fileOf(name), name,
                                  "shape " + shapeText(ti.shape) + " does not match " + origin + ", which implies "
                                      + shapeText(shape)));
    return ti;
}

at::Tensor Checkpoint::loadStoredChecked(const std::string& name, const std::vector<int64_t>& shape,
                                         const std::string& origin)
{
    at::Tensor t = loadFloatChecked(name, shape, origin);
    const DType dt = info(name).dtype;
    if (dt == DType::BF16)
        return t.to(at::kBFloat16);
    if (dt == DType::F16)
        return t.to(at::kHalf);
    return t;
}

at::Tensor Checkpoint::loadFloatChecked(const std::string& name, const std::vector<int64_t>& shape,
                                        const std::string& origin)
{
    infoChecked(name, shape, origin);
    return loadFloat(name).contiguous();
}

void copyStoredTensor(Checkpoint& src, const TensorSpec& spec, SafetensorsStreamWriter& w)
{
    const at::Tensor v = src.view(spec.name).reshape({-1});
    const auto* p = static_cast<const uint8_t*>(v.data_ptr());
    const uint64_t bytes = spec.bytes();
    for (uint64_t off = 0; off < bytes; off += 64u << 20)
        w.writeBytes(p + off, size_t(std::min<uint64_t>(64u << 20, bytes - off)));
    src.release(spec.name);
}

int writeShardedCheckpoint(const std::string& dir, const std::vector<TensorSpec>& specs, int64_t maxShardBytes,
                           bool indexAlways, const std::map<std::string, std::string>& metadata,
                           const std::function<void(const TensorSpec&, SafetensorsStreamWriter&)>& writeTensor)
{
    std::vector<std::vector<size_t>> shards(1);
    uint64_t inShard = 0, total = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        const uint64_t b = specs[i].bytes();
        if (!shards.back().empty() && maxShardBytes > 0 && inShard + b > uint64_t(maxShardBytes)) {
            shards.emplace_back();
            inShard = 0;
        }
        shards.back().push_back(i);
        inShard += b;
        total += b;
    }
    const size_t n = shards.size();
    const bool index = n > 1 || indexAlways;
    auto fileName = [&](size_t k) {
        if (!index)
            return std::string(kSingleName);
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", k + 1, n);
        return std::string(buf);
    };
    nlohmann::json weightMap = nlohmann::json::object();
    for (size_t k = 0; k < n; ++k) {
        std::vector<TensorSpec> part;
        for (size_t i : shards[k]) {
            part.push_back(specs[i]);
            weightMap[specs[i].name] = fileName(k);
        }
        SafetensorsStreamWriter out((fs::path(dir) / fileName(k)).string(), part, metadata);
        for (const TensorSpec& spec : part)
            writeTensor(spec, out);
        out.commit();
    }
    if (index)
        writeFileAtomic((fs::path(dir) / kIndexName).string(),
                        nlohmann::json({{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}}).dump(2)
                            + "\n");
    return int(n);
}

} // namespace mq::core
