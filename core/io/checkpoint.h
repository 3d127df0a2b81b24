#pragma once
// A Hugging Face checkpoint folder: model.safetensors, or shards listed by
// model.safetensors.index.json ("weight_map": tensor -> shard file). Shards are opened lazily
// the first time one of their tensors is asked for. Thread-safety: not thread-safe.
#include "io/safetensors.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mq::core {

// t as float32 (a weight kept in bf16 / f16 by loadStoredChecked, converted for a product).
inline at::Tensor asFloat(const at::Tensor& t) { return t.scalar_type() == at::kFloat ? t : t.to(at::kFloat); }

class Checkpoint {
public:
    // Throws InputError when neither file exists, the index is malformed or names a shard that
    // is missing.
    explicit Checkpoint(const std::string& dir);

    const std::string& dir() const { return m_dir; }
    bool sharded() const { return m_sharded; }
    std::vector<std::string> tensorNames() const;
    bool contains(const std::string& name) const { return m_weightMap.count(name) != 0 || m_derived.count(name) != 0; }
    // A tensor made from stored ones (a packed quantized Linear's weight, dequantized by
    // export/packed_export.h): contains, info, load, loadFloat and view see it like a stored one
    // (make is called on each load; it should release what it read), release does nothing, and
    // fileOf names the file of `from`. The folder's own tensors are unchanged.
    using DerivedTensor = std::function<at::Tensor(Checkpoint&)>;
    void addDerived(const TensorInfo& info, const std::string& from, DerivedTensor make);
    bool isDerived(const std::string& name) const { return m_derived.count(name) != 0; }
    // The stored tensor of that name even where a derived one shadows it (InputError if none).
    const TensorInfo& storedInfo(const std::string& name);
    at::Tensor storedView(const std::string& name);
    bool containsStored(const std::string& name) const { return m_weightMap.count(name) != 0; }
    // Shard file (full path) that holds the tensor; throws InputError naming the tensor.
    std::string fileOf(const std::string& name) const;
    const TensorInfo& info(const std::string& name);
    at::Tensor load(const std::string& name);
    at::Tensor loadFloat(const std::string& name);
    // loadFloat (contiguous) of a tensor that must exist with `shape`; InputError otherwise,
    // naming the folder or shard, the tensor, both shapes and `origin` (what implies the shape,
    // e.g. "config.json").
    at::Tensor loadFloatChecked(const std::string& name, const std::vector<int64_t>& shape, const std::string& origin);
    // loadFloatChecked, then kept in the file's dtype when that is bf16 or f16 (exact: the
    // float32 values came from it): large weights held for many products take half the memory;
    // asFloat() converts at use.
    at::Tensor loadStoredChecked(const std::string& name, const std::vector<int64_t>& shape, const std::string& origin);
    // The checks of loadFloatChecked without reading the bytes (a floating dtype, the shape).
    const TensorInfo& infoChecked(const std::string& name, const std::vector<int64_t>& shape, const std::string& origin);
    std::vector<std::string> files() const; // shard paths, sorted
    // SafetensorsFile::view and ::release of the tensor's shard (see safetensors.h).
    at::Tensor view(const std::string& name);
    void release(const std::string& name);
    // Stored bytes of every tensor (the model's size on disk, headers left out).
    uint64_t dataBytes();

private:
    SafetensorsFile& shard(const std::string& file);

    std::string m_dir;
    bool m_sharded = false;
    std::map<std::string, std::string> m_weightMap; // tensor -> file name (relative)
    std::map<std::string, std::unique_ptr<SafetensorsFile>> m_open;
    struct Derived {
        TensorInfo info;
        std::string from;
        DerivedTensor make;
    };
    std::map<std::string, Derived> m_derived;
};

// Writes `specs` (in order) as a checkpoint into the existing folder dir, tensor by tensor:
// shards of at most maxShardBytes of tensor data (a larger tensor gets a shard of its own)
// named model-0000k-of-0000n.safetensors with model.safetensors.index.json; a single shard is
// model.safetensors without an index unless indexAlways. writeTensor(spec, writer) writes each
// tensor's bytes (SafetensorsStreamWriter::write or writeBytes). Returns the shard count.
// The stored bytes of `name` from src into w (the next tensor of w's header), 64 MB at a time from
// the mapped shard, whose pages are given back afterwards: an export's copied tensors.
void copyStoredTensor(Checkpoint& src, const TensorSpec& spec, SafetensorsStreamWriter& w);

int writeShardedCheckpoint(const std::string& dir, const std::vector<TensorSpec>& specs, int64_t maxShardBytes,
                           bool indexAlways, const std::map<std::string, std::string>& metadata,
                           const std::function<void(const TensorSpec&, SafetensorsStreamWriter&)>& writeTensor);

} // namespace mq::core
