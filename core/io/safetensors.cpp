#include "io/safetensors.h"

#include "common/error.h"
#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace mq::core {

namespace {

using nlohmann::json;

// Tensors as they will be stored: sorted by name (std::map), contiguous CPU, with offsets.
struct Layout {
    std::string header; // length prefix + JSON padded to a multiple of 8
    std::vector<std::pair<std::string, at::Tensor>> tensors;
};

Layout buildLayout(const std::map<std::string, at::Tensor>& tensors,
                   const std::map<std::string, std::string>& metadata)
{
    Layout out;
    json header = json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (name == "__metadata__")
            throw Error(describe("", name, "this name is reserved by the safetensors format"));
        if (!t.defined())
            throw Error(describe("", name, "cannot store an undefined tensor"));
        const DType dt = fromScalarType(t.scalar_type());
        at::Tensor c = t.cpu().contiguous();
        const uint64_t bytes = uint64_t(c.numel()) * dtypeSize(dt);
        header[name] = {{"dtype", dtypeName(dt)},
                        {"shape", c.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        out.tensors.emplace_back(name, std::move(c));
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) { // names or metadata that are not valid UTF-8
        throw Error(std::string("cannot encode the safetensors header: ") + e.what());
    }
    // Readers may map the data section; keeping it 8-byte aligned keeps every dtype aligned.
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t len = text.size();
    for (int i = 0; i < 8; ++i)
        out.header.push_back(char((len >> (8 * i)) & 0xff));
    out.header += text;
    return out;
}

size_t tensorBytes(const at::Tensor& t) { return size_t(t.numel()) * t.element_size(); }

} // namespace

at::ScalarType toScalarType(DType t)
{
    switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F64: return at::kDouble;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::BOOL: return at::kBool;
    case DType::F8_E4M3: return at::kByte; // raw bytes (see safetensors.h)
    }
    return at::kFloat;
}

DType fromScalarType(at::ScalarType t)
{
    for (DType d : kAllDTypes) {
        if (toScalarType(d) == t)
            return d;
    }
    throw Error(std::string("safetensors cannot store tensors of type ") + c10::toString(t)
                + " (supported: " + dtypeList() + ")");
}

at::Tensor SafetensorsFile::load(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    // A copy, not a view of the map: the tensor may outlive this file object, and the mapped
    // bytes carry no alignment guarantee.
    at::Tensor t = at::empty(ti.shape, at::TensorOptions().dtype(toScalarType(ti.dtype)));
    if (ti.end > ti.begin)
        std::memcpy(t.data_ptr(), bytes(name), ti.end - ti.begin);
    return t;
}

at::Tensor SafetensorsFile::loadFloat(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    if (!isFloatingDType(ti.dtype))
        throw InputError(describe(path(), name, std::string("dtype is ") + dtypeName(ti.dtype)
                                                    + ", expected a floating dtype (F32, F16, BF16"
                                                      " or F64) to load as float32"));
    // One pass from the mapped bytes to a float32 copy (view() copies only misaligned bytes).
    return view(name).to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
}

void writeSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata)
{
    Layout layout;
    try {
        layout = buildLayout(tensors, metadata);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    // Streams tensor by tensor so a large checkpoint never needs a second copy in memory.
    AtomicFileWriter w(path);
    w.write(layout.header.data(), layout.header.size());
    for (const auto& [name, t] : layout.tensors)
        w.write(t.data_ptr(), tensorBytes(t));
    w.commit();
}

at::Tensor SafetensorsFile::view(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    const uint8_t* p = bytes(name);
    if (ti.end == ti.begin || reinterpret_cast<uintptr_t>(p) % dtypeSize(ti.dtype) != 0)
        return load(name);
    return at::from_blob(const_cast<uint8_t*>(p), ti.shape, at::TensorOptions().dtype(toScalarType(ti.dtype)));
}

uint64_t TensorSpec::bytes() const
{
    uint64_t n = 0;
    if (!safetensorsByteSize(shape, dtype, &n))
        throw Error(describe("", name, "tensor too large"));
    return n;
}

std::string safetensorsHeader(const std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata)
{
    json header = json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorSpec& s : specs) {
        if (s.name == "__metadata__")
            throw Error(describe("", s.name, "this name is reserved by the safetensors format"));
        if (header.contains(s.name))
            throw Error(describe("", s.name, "named twice"));
        const uint64_t bytes = s.bytes();
        header[s.name] = {{"dtype", dtypeName(s.dtype)}, {"shape", s.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) {
        throw Error(std::string("cannot encode the safetensors header: ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out;
    const uint64_t len = text.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(char((len >> (8 * i)) & 0xff));
    return out + text;
}

struct SafetensorsStreamWriter::Impl {
    std::string path;
    std::vector<TensorSpec> specs;
    AtomicFileWriter file;
    size_t next = 0;          // spec being written
    uint64_t doneInNext = 0;  // its bytes written so far
    uint64_t total = 0;
    Impl(const std::string& p, std::vector<TensorSpec> s) : path(p), specs(std::move(s)), file(p) {}
};

SafetensorsStreamWriter::SafetensorsStreamWriter(const std::string& path, std::vector<TensorSpec> specs,
                                                 const std::map<std::string, std::string>& metadata)
{
    std::string header;
    try {
        header = safetensorsHeader(specs, metadata);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    d = std::make_unique<Impl>(path, std::move(specs));
    d->file.write(header.data(), header.size());
    d->total = header.size();
    for (const TensorSpec& s : d->specs)
        d->total += s.bytes();
}

SafetensorsStreamWriter::~SafetensorsStreamWriter() = default;

uint64_t SafetensorsStreamWriter::totalBytes() const { return d->total; }

void SafetensorsStreamWriter::writeBytes(const void* data, size_t bytes)
{
    const auto* p = static_cast<const uint8_t*>(data);
    while (bytes > 0) {
        if (d->next >= d->specs.size())
            throw Error(d->path + ": more bytes written than the header announces");
        const uint64_t left = d->specs[d->next].bytes() - d->doneInNext;
        const size_t n = size_t(std::min<uint64_t>(left, bytes));
        d->file.write(p, n);
        p += n;
        bytes -= n;
        d->doneInNext += n;
        if (d->doneInNext == d->specs[d->next].bytes()) {
            ++d->next;
            d->doneInNext = 0;
        }
    }
    // Zero-sized tensors need no bytes: step over them.
    while (d->next < d->specs.size() && d->doneInNext == 0 && d->specs[d->next].bytes() == 0)
        ++d->next;
}

void SafetensorsStreamWriter::write(const std::string& name, const at::Tensor& t)
{
    while (d->next < d->specs.size() && d->doneInNext == 0 && d->specs[d->next].bytes() == 0
           && d->specs[d->next].name != name)
        ++d->next;
    if (d->next >= d->specs.size() || d->doneInNext != 0 || d->specs[d->next].name != name)
        throw Error(describe(d->path, name, "written out of the header's order"));
    const TensorSpec& s = d->specs[d->next];
    const bool f8AsBytes = s.dtype == DType::F8_E4M3 && t.scalar_type() == at::kByte; // raw E4M3 bytes
    if ((!f8AsBytes && fromScalarType(t.scalar_type()) != s.dtype) || t.sizes() != at::IntArrayRef(s.shape))
        throw Error(describe(d->path, name, "is " + shapeText(t.sizes()) + " " + dtypeName(fromScalarType(t.scalar_type()))
                                                + ", the header announced " + shapeText(s.shape.data(), s.shape.size()) + " " + dtypeName(s.dtype)));
    const at::Tensor c = t.cpu().contiguous();
    if (s.bytes() == 0) {
        ++d->next;
        return;
    }
    writeBytes(c.data_ptr(), size_t(s.bytes()));
}

void SafetensorsStreamWriter::commit()
{
    writeBytes(nullptr, 0);
    if (d->next != d->specs.size())
        throw Error(describe(d->path, d->specs[d->next].name, "not written; the file would be incomplete"));
    d->file.commit();
}

std::string serializeSafetensors(const std::map<std::string, at::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata)
{
    Layout layout = buildLayout(tensors, metadata);
    size_t total = layout.header.size();
    for (const auto& [name, t] : layout.tensors)
        total += tensorBytes(t);
    std::string out;
    out.reserve(total);
    out += layout.header;
    for (const auto& [name, t] : layout.tensors)
        out.append(static_cast<const char*>(t.data_ptr()), tensorBytes(t));
    return out;
}

std::string shapeText(at::IntArrayRef shape) { return shapeText(shape.data(), shape.size()); }

} // namespace mq::core
