#include "io/atomic_file.h"

#include "common/error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <csignal>
#include <cstdio>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mq::core {

namespace {

std::string errnoText(int err) { return std::strerror(err); }

std::string parentDir(const std::string& path)
{
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

// Two writers in one process may target the same folder; the counter keeps their temp names
// apart where the pid alone would not.
std::string makeTempPath(const std::string& target)
{
    static std::atomic<unsigned> counter{0};
    return target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void fsyncPath(const std::string& path, int flags, const std::string& target, const char* what)
{
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error(describe(target, "", std::string("cannot open ") + what + " '" + path
                                             + "' to fsync it: " + errnoText(err)));
    }
    // Some file systems cannot fsync a folder (EINVAL); the rename is then as durable as
    // that file system allows, which is not an error of ours.
    if (::fsync(fd) != 0 && errno != EINVAL) {
        const int err = errno;
        ::close(fd);
        throw Error(describe(target, "", std::string("fsync of ") + what + " '" + path
                                             + "' failed: " + errnoText(err)));
    }
    ::close(fd);
}

} // namespace

AtomicFileWriter::AtomicFileWriter(const std::string& targetPath)
    : m_targetPath(targetPath), m_tempPath(makeTempPath(targetPath))
{
    // O_EXCL: never write into a file another process happens to hold under that name.
    const int fd = ::open(m_tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int err = errno;
        throw Error(describe(m_targetPath, "", "cannot create temporary file '" + m_tempPath
                                                   + "': " + errnoText(err)));
    }
    m_file = ::fdopen(fd, "wb");
    if (!m_file) {
        const int err = errno;
        ::close(fd);
        ::unlink(m_tempPath.c_str());
        throw Error(describe(m_targetPath, "", "cannot open a stream on '" + m_tempPath
                                                   + "': " + errnoText(err)));
    }
}

AtomicFileWriter::~AtomicFileWriter()
{
    if (m_file)
        std::fclose(m_file);
    if (!m_committed)
        ::unlink(m_tempPath.c_str());
}

void AtomicFileWriter::write(const void* data, size_t bytes)
{
    if (bytes == 0)
        return;
    if (!m_file)
        throw Error(describe(m_targetPath, "", "write after the file was closed"));
    errno = 0;
    if (std::fwrite(data, 1, bytes, m_file) != bytes) {
        const int err = errno ? errno : EIO;
        throw Error(describe(m_targetPath, "", "short write to '" + m_tempPath + "': "
                                                   + errnoText(err)));
    }
    m_written += bytes;
#if defined(__linux__)
    if (m_written - m_kicked >= kWriteBehindBytes && std::fflush(m_file) == 0) {
        // Advisory: a failure shows again (and is reported) at commit's flush and fsync.
        (void)::sync_file_range(::fileno(m_file), off64_t(m_kicked), off64_t(m_written - m_kicked),
                                SYNC_FILE_RANGE_WRITE);
        m_kicked = m_written;
    }
#endif
}

void AtomicFileWriter::closeHandle()
{
    if (!m_file)
        return;
    std::FILE* f = m_file;
    m_file = nullptr;
    // fclose flushes: a failure here is a lost write (disk full), not a cosmetic problem.
    if (std::fclose(f) != 0) {
        const int err = errno;
        throw Error(describe(m_targetPath, "", "cannot flush and close '" + m_tempPath + "': "
                                                   + errnoText(err)));
    }
}

void AtomicFileWriter::commit()
{
    if (m_committed)
        return;
    if (m_file) {
        if (std::fflush(m_file) != 0) {
            const int err = errno;
            throw Error(describe(m_targetPath, "", "cannot flush '" + m_tempPath + "': "
                                                       + errnoText(err)));
        }
        if (::fsync(::fileno(m_file)) != 0) {
            const int err = errno;
            throw Error(describe(m_targetPath, "", "fsync of '" + m_tempPath + "' failed: "
                                                       + errnoText(err)));
        }
        closeHandle();
    }
    // On failure the destructor removes the temp file; commitTempFile also does so itself.
    commitTempFile(m_tempPath, m_targetPath);
    m_committed = true;
}

void commitTempFile(const std::string& tempPath, const std::string& targetPath)
{
    try {
        fsyncPath(tempPath, O_RDONLY, targetPath, "temporary file");
        if (::rename(tempPath.c_str(), targetPath.c_str()) != 0) {
            const int err = errno;
            throw Error(describe(targetPath, "", "cannot rename '" + tempPath + "' over it: "
                                                     + errnoText(err)));
        }
    } catch (...) {
        ::unlink(tempPath.c_str());
        throw;
    }
    // The rename is only durable once the folder entry is on disk.
    fsyncPath(parentDir(targetPath), O_RDONLY | O_DIRECTORY, targetPath, "folder");
}

void writeFileAtomic(const std::string& path, const std::string& content)
{
    AtomicFileWriter w(path);
    w.write(content.data(), content.size());
    w.commit();
}

std::string readTextFile(const std::string& path)
{
    // ifstream happily "opens" a folder and then reads nothing; say what is wrong instead.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw InputError(describe(path, "", "is a folder, expected a file"));
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw InputError(describe(path, "", "cannot open file: " + errnoText(err)));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        throw InputError(describe(path, "", "read error"));
    return ss.str();
}

int removeStaleTemporaries(const std::string& target)
{
    namespace fs = std::filesystem;
    const fs::path out = fs::absolute(fs::path(target)).lexically_normal();
    std::error_code ec;
    if (!out.has_parent_path() || !fs::is_directory(out.parent_path(), ec))
        return 0;
    const std::string base = out.filename().string();
    int removed = 0;
    for (const fs::directory_entry& e : fs::directory_iterator(out.parent_path(), ec)) {
        const std::string name = e.path().filename().string();
        std::string rest;
        for (const char* tag : {".tmp-", ".old-"})
            if (name.rfind(base + tag, 0) == 0)
                rest = name.substr(base.size() + std::strlen(tag));
        if (rest.empty())
            continue;
        const std::string pidText = rest.substr(0, rest.find('-'));
        if (pidText.empty() || pidText.size() > 9 || pidText.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const pid_t pid = pid_t(std::stol(pidText));
        // Only a writer that is gone: a live one (this process, or another run) keeps its files.
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        fs::remove_all(e.path(), ec);
        if (!ec)
            ++removed;
    }
    return removed;
}

std::string checkFolderTarget(const std::string& target, bool overwrite)
{
    namespace fs = std::filesystem;
    // Error-code forms throughout: a name the system refuses (too long, no permission) is a clear
    // InputError about the target, not a filesystem_error from deep inside the library.
    std::error_code ec;
    fs::path out = fs::absolute(fs::path(target), ec);
    if (ec)
        throw InputError(target + ": cannot use as the output folder: " + ec.message());
    out = out.lexically_normal();
    const fs::file_status st = fs::status(out, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw InputError(out.string() + ": cannot use as the output folder: " + ec.message());
    if (fs::exists(st) && !overwrite) {
        const bool emptyFolder = fs::is_directory(st) && fs::is_empty(out, ec) && !ec;
        if (!emptyFolder)
            throw InputError(out.string()
                             + ": already exists; choose another folder or allow overwriting (--overwrite)");
    }
    if (!out.has_parent_path() || !fs::is_directory(out.parent_path(), ec))
        throw InputError(out.string() + ": parent folder does not exist");
    return out.string();
}

std::string writeFolderAtomic(const std::string& target, bool overwrite,
                              const std::function<void(const std::string& tempDir)>& fill)
{
    namespace fs = std::filesystem;
    const fs::path out(checkFolderTarget(target, overwrite));
    removeStaleTemporaries(out.string());
    const std::string pid = std::to_string(::getpid());
    const fs::path tmp = out.parent_path() / (out.filename().string() + ".tmp-" + pid);
    try {
        fs::remove_all(tmp);
        fs::create_directory(tmp);
        fill(tmp.string());
        fsyncPath(tmp.string(), O_RDONLY | O_DIRECTORY, out.string(), "folder");
        if (fs::exists(out)) {
            // Swap the two folders in one step, so that the path never goes missing (a kill
            // leaves either the old folder or the new one there); the old one is then removed.
            if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
                fs::remove_all(tmp);
            } else { // a file system without the exchange: two renames
                const fs::path old = out.parent_path() / (out.filename().string() + ".old-" + pid);
                fs::rename(out, old);
                fs::rename(tmp, out);
                fs::remove_all(old);
            }
        } else {
            fs::rename(tmp, out);
        }
        fsyncPath(out.parent_path().string(), O_RDONLY | O_DIRECTORY, out.string(), "parent folder");
    } catch (const fs::filesystem_error& e) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw Error(out.string() + ": writing the folder failed: " + e.what());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
    return out.string();
}

} // namespace mq::core
