*** Settings ***
Documentation       The board's HTTPS server against hostile, slow and many peers (issue 10):
...                 malformed input at every layer (invalid UTF-8, binary garbage inside and
...                 after TLS, a 64 KiB request line, a truncated ClientHello, SSLv3 and TLS
...                 1.0 hellos) gets one console line with the reason and the next client is
...                 served; 50 clients at once are all served; silent and slow clients are
...                 closed at their deadline while a normal client is served and LED4 blinks;
...                 openssl s_client -reconnect resumes its TLS 1.2 session.
...
...                 Run from the repository root: ``robot robot/robustness.robot``.
Resource            resources/apps.resource
Library             Process
Library             String
Library             libraries/HostilePeers.py
Suite Setup         Ensure Test PKI
Suite Teardown      Run Keywords    Close Hostile Connections    AND    Clean Up Lab
Test Teardown       Stop Board After Test
Test Tags           server    network    robustness


*** Variables ***
# what each hostile input gets: the board's console line (a regular expression) and the
# start of what it sends back
&{CASE_LINE}
...    invalid-utf8-line=answered 400 Bad Request
...    invalid-utf8-header=> Write to client: Successfully write
...    garbage-in-tls=answered 400 Bad Request
...    garbage-after-handshake=reading the request: SSLError -0x[0-9a-f]+: MBEDTLS_ERR_SSL_
...    64k-line=answered 414 URI Too Long
...    truncated-hello=mbedtls_ssl_handshake returned -0x[0-9a-f]+: MBEDTLS_ERR_SSL_
...    header-then-silence=closed after the 8 s deadline \\(handshake\\)
...    closed-at-once=mbedtls_ssl_handshake returned -0x7280: MBEDTLS_ERR_SSL_CONN_EOF
...    sslv3=mbedtls_ssl_handshake returned -0x6e80: MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION
...    tls1.0=mbedtls_ssl_handshake returned -0x6e80: MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION


*** Test Cases ***
Board Survives Hostile Input And Serves The Next Client
    [Tags]    negative
    Boot SSL Server Board    deadline=8
    ${port}=    Get Forwarded Port
    ${pki}=    Ensure Test PKI
    FOR    ${case}    IN    @{CASE_LINE}
        ${reply}=    Send Hostile Input    ${case}    ${port}    ${pki}
        Wait For Line On Uart    ${CASE_LINE}[${case}]    treat_as_regex=True    timeout=${TLS_TIMEOUT}
        ${page}=    Fetch Board Page    timeout=${TLS_TIMEOUT}
        Should Be Equal As Integers    ${page.status}    200
        ...    msg=After '${case}' the next client got ${page.status}    values=False
    END
    Board Should Not Have Stopped

Fifty Clients At Once Are All Served
    Boot SSL Server Board
    ${port}=    Get Forwarded Port
    ${pki}=    Ensure Test PKI
    ${hits}=    Fetch Pages At Once    ${port}    ${pki}    50
    ${expected}=    Evaluate    list(range(1, 51))
    Lists Should Be Equal    ${hits}    ${expected}
    LED Should Be Blinking    LED4
    Board Should Not Have Stopped

Silent And Slow Clients Do Not Hold Up A Normal Client
    Boot SSL Server Board    deadline=20
    ${port}=    Get Forwarded Port
    Open Silent Connections    ${port}    5
    Start Slow Client    ${port}
    Wait For Line On Uart    . Waiting for a remote connection ... ok (#6 from    timeout=${TLS_TIMEOUT}
    LED Should Be Blinking    LED4
    ${page}=    Fetch Board Page    timeout=${TLS_TIMEOUT}
    Should Be Equal As Integers    ${page.status}    200
    # the normal client (#7) was served before any slow one reached its deadline
    ${line}=    Wait For Line On Uart    ^ +(> Write to client|! #\\d from .* deadline)
    ...    treat_as_regex=True    timeout=${TLS_TIMEOUT}
    Should Contain    ${line}    > Write to client
    FOR    ${n}    IN RANGE    6
        Wait For Line On Uart    closed after the 20 s deadline    timeout=${TLS_TIMEOUT}
    END
    Close Hostile Connections
    Board Should Not Have Stopped

OpenSSL s_client Resumes Its TLS 1.2 Session
    Boot SSL Server Board
    ${port}=    Get Forwarded Port
    ${pki}=    Ensure Test PKI
    ${result}=    Run Process    openssl    s_client    -connect    127.0.0.1:${port}
    ...    -CAfile    ${pki}/ca.pem    -verify_hostname    stm32-board.lab    -verify_return_error
    ...    -tls1_2    -reconnect    stdin=    timeout=180 s
    ${reused}=    Get Count    ${result.stdout}    Reused, TLSv1.2
    Should Be Equal As Integers    ${reused}    5
    ...    msg=openssl resumed ${reused} of 5 reconnections: ${result.stdout}    values=False
    Wait For Line On Uart    . Resuming SSL session... ok    timeout=${TLS_TIMEOUT}


*** Keywords ***
Board Should Not Have Stopped
    [Documentation]    No traceback, no drop to the REPL, no supervisor restart on the
    ...                console since the board started.
    ${lines}=    Get Uart Lines
    ${text}=    Catenate    SEPARATOR=\n    @{lines}
    Should Not Contain    ${text}    Traceback
    Should Not Contain    ${text}    supervisor:
    Should Not Contain    ${text}    MicroPython v1.
