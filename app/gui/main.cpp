// morphoquant: the workbench GUI.
#include "main_window.h"

#include "common/runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>


int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("MorphoQuant Workbench"));
    QApplication::setOrganizationName(QStringLiteral("MorphoQuant"));
    QApplication::setApplicationVersion(QStringLiteral(PROJECT_VERSION_STRING));
    mq::core::initRuntime(0);

    QTranslator translator;
    if (translator.load(QLocale(), QStringLiteral("morphoquant"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&translator);

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "MorphoQuant Workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("session"), QApplication::translate("main", "Session file (.mqs) to open."));
    parser.process(app);

    mq::ui::MainWindow w;
    if (!parser.positionalArguments().isEmpty())
        w.openSession(parser.positionalArguments().constFirst());
    w.show();
    return app.exec();
}
