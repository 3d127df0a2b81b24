<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>main</name>
    <message>
        <location filename="../app/gui/main.cpp" line="27"/>
        <source>MorphoQuant Workbench</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/gui/main.cpp" line="30"/>
        <source>Session file (.mqs) to open.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>mq::ui::MainWindow</name>
    <message>
        <location filename="../widgets/main_window.cpp" line="17"/>
        <source>MorphoQuant Workbench</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="20"/>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="21"/>
        <source>&amp;Open Session...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="24"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="26"/>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="27"/>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="29"/>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="33"/>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="44"/>
        <source>Session %1
Model %2 (%3)
%4 Linear modules in %5 input groups
%6 calibration tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="50"/>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="54"/>
        <source>
%1: perplexity %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="56"/>
        <source>Opened %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="60"/>
        <source>Cannot open session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="61"/>
        <source>Could not open %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="68"/>
        <source>Open Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="69"/>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="76"/>
        <source>About MorphoQuant Workbench</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="77"/>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
