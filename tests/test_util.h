#pragma once
// Helpers shared by the test suites.
#include <QByteArray>
#include <QFile>
#include <QString>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <functional>
#include <optional>
#include <string>

#include "common/error.h"

namespace mq::test {

inline std::string sharedDir() { return MQ_SHARED_DIR; }
inline std::string storiesDir() { return std::string(MQ_SHARED_DIR) + "/models/stories260K"; }
inline std::string binDir() { return MQ_BIN_DIR; }

} // namespace mq::test

namespace {

// The message of the InputError fn throws; nullopt when it throws nothing. Other exception
// types escape, and QtTest reports them as failures.
inline std::optional<std::string> inputErrorOf(const std::function<void()>& fn)
{
    try {
        fn();
    } catch (const mq::core::InputError& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

// Runs f, expects InputError, and checks its message names `mustName` (the file, usually).
template <typename F>
void expectInputError(F f, const std::string& mustName)
{
    try {
        f();
        QFAIL("expected InputError");
    } catch (const mq::core::InputError& e) {
        const std::string msg = e.what();
        QVERIFY2(msg.find(mustName) != std::string::npos, msg.c_str());
    }
}

inline bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

// Writes raw bytes (malformed fixtures); fails the calling test when it cannot.
inline void writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

} // namespace
