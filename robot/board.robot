*** Settings ***
Documentation       Smoke tests of the lab itself: the emulated board boots the bare-metal
...                 test program and the MicroPython firmware, its console, LEDs and Ethernet
...                 link answer the library's keywords, and the PC-side SSL server and HTTPS
...                 client work on the host.
...
...                 Needs ``make qemu``, ``make baremetal`` (done here if missing) and
...                 ``make firmware``. Run from the repository root:
...                 ``robot robot/board.robot``
Resource            resources/board.resource
Resource            resources/pc.resource
Suite Setup         Build Bare-Metal Test Programs
Suite Teardown      Clean Up Lab
Test Teardown       Stop Board After Test
Test Tags           smoke


*** Test Cases ***
Bare-Metal Board Boots And Reports A 168 MHz System Clock
    Boot Bare-Metal Hello
    ${line}=    Wait For Line On Uart    ^clock: SYSCLK (\\d+) Hz from PLL \\(HSE 25 MHz\\)$    treatAsRegex=true
    Should Be Equal    ${line}    ${CLOCK_LINE}

Bare-Metal Board Echoes Every Line Typed On The Console
    Boot Bare-Metal Hello
    Wait For Line On Uart    ${CLOCK_LINE}
    FOR    ${text}    IN    ping    hello board    0123456789    a much longer line of typed text
        Write Line To Uart    ${text}    waitForEcho=true
    END

Bare-Metal Board Blinks LED4
    Boot Bare-Metal Hello
    ${changes}=    LED Should Be Blinking    LED4    within=3 s    changes=4
    LED Should Be Off    LED1

Failed UART Wait Names The Line And Shows The Last Console Lines
    [Tags]    negative
    Boot Bare-Metal Hello
    Wait For Line On Uart    ${CLOCK_LINE}
    Run Keyword And Expect Error
    ...    Expected a line containing 'this line never comes' on console within 500 milliseconds, but none came.*Last console lines:*${CLOCK_LINE}*
    ...    Wait For Line On Uart    this line never comes    timeout=0.5 s

MicroPython REPL Evaluates Expressions
    [Setup]    Boot MicroPython Board
    [Template]    Python Should Print
    print(6*7)                    42
    1 + 1                         2
    hex(255)                      '0xff'
    print('a' + 'b' * 3)          abbb
    x = 6                         ${EMPTY}
    print(x * 7)                  42

MicroPython REPL Reports Exceptions
    [Tags]    negative
    [Setup]    Boot MicroPython Board
    [Template]    Python Should Raise
    1/0                           ZeroDivisionError
    import no_such_module         ImportError

Execute Python Command Fails When The Command Raises
    [Tags]    negative
    Boot MicroPython Board
    Run Keyword And Expect Error    Python command '1/0' raised ZeroDivisionError: divide by zero*
    ...    Execute Python Command    1/0
    Python Should Print    print('still at the prompt')    still at the prompt

LEDs Set From Python Are Seen By The Host
    [Setup]    Boot MicroPython Board
    [Template]    LED Set From Python Should Be Seen By The Host
    LED1
    LED2
    LED3
    LED4

Ethernet Link Can Be Pulled And Restored While The Board Runs
    [Tags]    network
    Boot MicroPython Board
    Set Ethernet Link    down
    Python Should Print    print('alive with the cable out')    alive with the cable out
    Set Ethernet Link    up
    Python Should Print    print('alive with the cable in')    alive with the cable in

PC SSL Server Serves A Page To The Host HTTPS Client
    [Tags]    network    server    crypto
    [Template]    PC SSL Server Should Serve Its Certificate Kind
    RSA
    ECDSA


*** Keywords ***
PC SSL Server Should Serve Its Certificate Kind
    [Arguments]    ${kind}
    ${port}=    Start PC SSL Server With Lab PKI    ${kind}
    ${page}=    PC SSL Server Should Serve A Page To The Host    ${port}
    Should Contain    ${page.server_subject}    CN=ssl-server.lab
    IF    '${kind}' == 'ECDSA'
        Should Match Regexp    ${page.cipher}    ECDSA|TLS_AES|TLS_CHACHA
    END
    [Teardown]    Stop PC SSL Server
