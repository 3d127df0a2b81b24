// The Qt Linguist catalogues in translations/ (zh_CN, ja): every message translated, and the
// translations keep what the code relies on: placeholders, HTML markup, one accelerator.
// MQ_TS_DIR, when set, points the suite at another folder (e.g. a broken copy, to see it fail).
#include <QtTest/QtTest>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QList>
#include <QRegularExpression>
#include <QSet>
#include <QStringList>
#include <QXmlStreamReader>

namespace {

struct TsMessage {
    QString context;
    QString source;
    QString comment;
    bool numerus = false;
    QString type; // the <translation> type attribute ("" when finished)
    bool hasNumerusForms = false;
    QStringList translations; // the text, or one entry per <numerusform>
    qint64 line = 0;
};

struct TsFile {
    QString path;
    QString language;
    QString error; // empty when the file parsed
    QList<TsMessage> messages;
};

QString translationsDir()
{
    const QByteArray env = qgetenv("MQ_TS_DIR");
    if (!env.isEmpty())
        return QString::fromLocal8Bit(env);
    // MQ_TEST_DATA_DIR is <repo>/tests/data.
    return QDir::cleanPath(QStringLiteral(MQ_TEST_DATA_DIR "/../../translations"));
}

TsFile parseTs(const QString& path)
{
    TsFile ts;
    ts.path = path;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        ts.error = QStringLiteral("cannot open %1: %2").arg(path, file.errorString());
        return ts;
    }
    QXmlStreamReader xml(&file);
    QString context;
    TsMessage* message = nullptr;
    bool sawTs = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement())
            continue;
        const QStringView name = xml.name();
        if (name == u"TS") {
            sawTs = true;
            ts.language = xml.attributes().value(QLatin1String("language")).toString();
        } else if (name == u"context") {
            context.clear();
            message = nullptr;
        } else if (name == u"name" && !message) {
            context = xml.readElementText();
        } else if (name == u"message") {
            ts.messages.append(TsMessage());
            message = &ts.messages.last();
            message->context = context;
            message->numerus = xml.attributes().value(QLatin1String("numerus")) == u"yes";
            message->line = xml.lineNumber();
        } else if (message && name == u"source") {
            message->source = xml.readElementText();
        } else if (message && name == u"comment") {
            message->comment = xml.readElementText();
        } else if (message && name == u"translation") {
            message->type = xml.attributes().value(QLatin1String("type")).toString();
            // Either plain text or <numerusform> children (whitespace between them).
            QString text;
            while (!xml.atEnd()) {
                xml.readNext();
                if (xml.isCharacters()) {
                    text += xml.text();
                } else if (xml.isStartElement() && xml.name() == u"numerusform") {
                    message->hasNumerusForms = true;
                    message->translations << xml.readElementText();
                } else if (xml.isStartElement()) {
                    xml.skipCurrentElement();
                } else if (xml.isEndElement() && xml.name() == u"translation") {
                    break;
                }
            }
            if (!message->hasNumerusForms)
                message->translations << text;
        }
    }
    if (xml.hasError())
        ts.error = QStringLiteral("%1:%2:%3: %4")
                       .arg(path)
                       .arg(xml.lineNumber())
                       .arg(xml.columnNumber())
                       .arg(xml.errorString());
    else if (!sawTs)
        ts.error = QStringLiteral("%1: no <TS> element").arg(path);
    return ts;
}

QString where(const TsFile& ts, const TsMessage& m)
{
    return QStringLiteral("%1:%2 [%3] \"%4\"")
        .arg(QFileInfo(ts.path).fileName(), QString::number(m.line), m.context, m.source);
}

// Sorted list, so two multisets compare with ==.
QStringList sortedMatches(const QRegularExpression& re, const QString& text)
{
    QStringList out;
    for (auto it = re.globalMatch(text); it.hasNext();)
        out << it.next().captured(0);
    out.sort();
    return out;
}

// %1..%99, %L1..%L99 and %n (QString::arg / tr numerus placeholders).
QStringList placeholders(const QString& text)
{
    static const QRegularExpression re(QStringLiteral("%(?:L?[1-9][0-9]?|n)"));
    return sortedMatches(re, text);
}

// HTML tags as Qt's rich text knows them; metavariables such as "<png>" are no markup.
QStringList htmlTags(const QString& text)
{
    static const QRegularExpression re(
        QStringLiteral("</?(?:a|b|big|blockquote|body|br|center|code|dd|div|dl|dt|em|font|h[1-6]|head|hr|html|i|img|"
                       "kbd|li|nobr|ol|p|pre|qt|s|samp|small|span|strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul|"
                       "var)\\b[^<>]*/?>"),
        QRegularExpression::CaseInsensitiveOption);
    QStringList tags = sortedMatches(re, text);
    for (QString& t : tags)
        t = t.toLower();
    tags.sort();
    return tags;
}

// The accelerator letters of a widget text: '&' before a letter or digit, not "&&" (a literal
// ampersand) and not an entity such as "&amp;" or "&#38;" left in the decoded text.
QStringList accelerators(const QString& text)
{
    static const QRegularExpression entity(QStringLiteral("&(?:amp|lt|gt|quot|apos|nbsp|#[0-9]+|#[xX][0-9A-Fa-f]+);"));
    QStringList out;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] != u'&')
            continue;
        if (i + 1 < text.size() && text[i + 1] == u'&') {
            ++i;
            continue;
        }
        if (entity.match(text, i, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption)
                .hasMatch())
            continue;
        if (i + 1 < text.size() && text[i + 1].isLetterOrNumber())
            out << text[i + 1].toUpper();
    }
    return out;
}

void addFileRows()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("language");
    const QString dir = translationsDir();
    QTest::newRow("zh_CN") << dir + QStringLiteral("/morphoquant_zh_CN.ts") << QStringLiteral("zh_CN");
    QTest::newRow("ja") << dir + QStringLiteral("/morphoquant_ja.ts") << QStringLiteral("ja");
}

// Parses the row's file; fails the test when it does not parse.
#define MQ_LOAD_TS(ts)                                                                                                 \
    QFETCH(QString, path);                                                                                             \
    const TsFile ts = parseTs(path);                                                                                   \
    QVERIFY2(ts.error.isEmpty(), qPrintable(ts.error));                                                                \
    QVERIFY2(!ts.messages.isEmpty(), qPrintable(path + QStringLiteral(": no messages")))

#define MQ_VERIFY_NO_PROBLEMS(problems)                                                                                \
    QVERIFY2((problems).isEmpty(),                                                                                     \
        qPrintable(QStringLiteral("%1 problem(s):\n").arg((problems).size()) + (problems).join(QLatin1Char('\n'))))

} // namespace

class TestTranslations : public QObject {
    Q_OBJECT

private slots:
    void parses_data() { addFileRows(); }
    void parses();
    void allTranslated_data() { addFileRows(); }
    void allTranslated();
    void placeholdersKept_data() { addFileRows(); }
    void placeholdersKept();
    void htmlTagsKept_data() { addFileRows(); }
    void htmlTagsKept();
    void acceleratorsKept_data() { addFileRows(); }
    void acceleratorsKept();
    void sameMessagesInBothFiles();
    void helpers();
};

void TestTranslations::parses()
{
    QFETCH(QString, language);
    MQ_LOAD_TS(ts);
    QCOMPARE(ts.language, language);
}

void TestTranslations::allTranslated()
{
    MQ_LOAD_TS(ts);
    QStringList problems;
    for (const TsMessage& m : ts.messages) {
        if (!m.type.isEmpty())
            problems << QStringLiteral("%1: translation type=\"%2\"").arg(where(ts, m), m.type);
        if (m.numerus != m.hasNumerusForms)
            problems << QStringLiteral("%1: numerus=\"%2\" but %3 <numerusform>")
                            .arg(where(ts, m), m.numerus ? QStringLiteral("yes") : QStringLiteral("no"),
                                m.hasNumerusForms ? QStringLiteral("with") : QStringLiteral("without"));
        if (m.translations.isEmpty())
            problems << QStringLiteral("%1: no translation").arg(where(ts, m));
        for (const QString& t : m.translations)
            if (t.trimmed().isEmpty())
                problems << QStringLiteral("%1: empty translation").arg(where(ts, m));
    }
    MQ_VERIFY_NO_PROBLEMS(problems);
}

void TestTranslations::placeholdersKept()
{
    MQ_LOAD_TS(ts);
    QStringList problems;
    for (const TsMessage& m : ts.messages) {
        const QStringList expected = placeholders(m.source);
        for (const QString& t : m.translations) {
            const QStringList got = placeholders(t);
            if (got != expected)
                problems << QStringLiteral("%1: placeholders {%2} in \"%3\", the source has {%4}")
                                .arg(where(ts, m), got.join(QLatin1Char(' ')), t, expected.join(QLatin1Char(' ')));
        }
    }
    MQ_VERIFY_NO_PROBLEMS(problems);
}

void TestTranslations::htmlTagsKept()
{
    MQ_LOAD_TS(ts);
    QStringList problems;
    for (const TsMessage& m : ts.messages) {
        const QStringList expected = htmlTags(m.source);
        for (const QString& t : m.translations) {
            const QStringList got = htmlTags(t);
            if (got != expected)
                problems << QStringLiteral("%1: HTML tags {%2} in \"%3\", the source has {%4}")
                                .arg(where(ts, m), got.join(QLatin1Char(' ')), t, expected.join(QLatin1Char(' ')));
        }
    }
    MQ_VERIFY_NO_PROBLEMS(problems);
}

void TestTranslations::acceleratorsKept()
{
    MQ_LOAD_TS(ts);
    QStringList problems;
    int checked = 0;
    for (const TsMessage& m : ts.messages) {
        const QStringList source = accelerators(m.source);
        if (source.isEmpty())
            continue;
        ++checked;
        for (const QString& t : m.translations) {
            const QStringList got = accelerators(t);
            if (got.size() != 1)
                problems << QStringLiteral("%1: %2 accelerators in \"%3\", want exactly one")
                                .arg(where(ts, m), QString::number(got.size()), t);
            else if (got != source)
                problems << QStringLiteral("%1: accelerator &%2 in \"%3\", the source has &%4")
                                .arg(where(ts, m), got.first(), t, source.first());
        }
    }
    QVERIFY2(checked > 0, "no source text with an accelerator: is this the menu catalogue?");
    MQ_VERIFY_NO_PROBLEMS(problems);
}

void TestTranslations::sameMessagesInBothFiles()
{
    const QString dir = translationsDir();
    const TsFile zh = parseTs(dir + QStringLiteral("/morphoquant_zh_CN.ts"));
    const TsFile ja = parseTs(dir + QStringLiteral("/morphoquant_ja.ts"));
    QVERIFY2(zh.error.isEmpty(), qPrintable(zh.error));
    QVERIFY2(ja.error.isEmpty(), qPrintable(ja.error));
    const auto keys = [](const TsFile& ts) {
        QSet<QString> out;
        for (const TsMessage& m : ts.messages)
            out.insert(m.context + QChar(0x1f) + m.source);
        return out;
    };
    const QSet<QString> zhKeys = keys(zh), jaKeys = keys(ja);
    QStringList problems;
    const auto describe = [](const QString& key) {
        const QStringList parts = key.split(QChar(0x1f));
        return QStringLiteral("[%1] \"%2\"").arg(parts.value(0), parts.value(1));
    };
    for (const QString& k : zhKeys - jaKeys)
        problems << QStringLiteral("only in zh_CN: %1").arg(describe(k));
    for (const QString& k : jaKeys - zhKeys)
        problems << QStringLiteral("only in ja: %1").arg(describe(k));
    problems.sort();
    MQ_VERIFY_NO_PROBLEMS(problems);
    QCOMPARE(zh.messages.size(), ja.messages.size());
}

// The checks themselves: each must see the mistakes the others rely on it to catch.
void TestTranslations::helpers()
{
    QCOMPARE(placeholders(QStringLiteral("%1 of %2, %n item(s), %L3 and %1 again; 50% done, %%")),
        (QStringList { QStringLiteral("%1"), QStringLiteral("%1"), QStringLiteral("%2"), QStringLiteral("%L3"),
            QStringLiteral("%n") }));
    QCOMPARE(placeholders(QStringLiteral(", %1% vs full precision")), QStringList { QStringLiteral("%1") });
    QCOMPARE(placeholders(QStringLiteral("%12")), QStringList { QStringLiteral("%12") });
    QVERIFY(placeholders(QStringLiteral("%1 and %2")) != placeholders(QStringLiteral("%1 and %1")));

    QCOMPARE(htmlTags(QStringLiteral("<b>%1</b>: x<br>y<BR/>")),
        (QStringList {
            QStringLiteral("</b>"), QStringLiteral("<b>"), QStringLiteral("<br/>"), QStringLiteral("<br>") }));
    QVERIFY(htmlTags(QStringLiteral("Save to <png> and exit; 1 < b > 0")).isEmpty());

    QCOMPARE(accelerators(QStringLiteral("&File")), QStringList { QStringLiteral("F") });
    QCOMPARE(accelerators(QStringLiteral("文件(&F)")), QStringList { QStringLiteral("F") });
    QCOMPARE(accelerators(QStringLiteral("Open E&xample Session")), QStringList { QStringLiteral("X") });
    QVERIFY(accelerators(QStringLiteral("Fish && Chips")).isEmpty());
    QVERIFY(accelerators(QStringLiteral("a &amp; b &lt;c&gt; &#38; & d")).isEmpty());
    QCOMPARE(accelerators(QStringLiteral("&Open && &Save")).size(), 2);
}

QTEST_APPLESS_MAIN(TestTranslations)
#include "tst_translations.moc"
