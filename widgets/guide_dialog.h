#pragma once
// Help > Guide: the steps of a study, a glossary of the method's terms (with their symbols) and
// the keyboard shortcuts of the window's menus, read from the actions themselves.
#include <QDialog>
#include <QList>

class QAction;
class QMenuBar;
class QTextBrowser;

namespace mq::ui {

class GuideDialog : public QDialog {
    Q_OBJECT
public:
    GuideDialog(const QMenuBar* menus, QWidget* parent = nullptr);
    QTextBrowser* browser() const { return m_browser; }
    // The guide as HTML: workflow, glossary, and a table of every menu action with a shortcut.
    static QString html(const QMenuBar* menus);

private:
    QTextBrowser* m_browser;
};

} // namespace mq::ui
