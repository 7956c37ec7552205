*** Settings ***
Documentation       The board as SSL client (ST's SSL_Client demo, UM1723 5.1) against the PC
...                 SSL server (``host_tools/ssl_server.py``, reached by the board as
...                 192.168.0.1:443): the console shows each step of the connection (the
...                 handshake, the protocol and the cipher suite, the bytes written and
...                 read) and the server sees the board's request. The board refuses an
...                 expired certificate, a certificate for another host name and one from
...                 an untrusted CA with mbedTLS's reason, reports a server that is down
...                 and retries, and recovers when the cable comes back.
...
...                 Run from the repository root: ``robot robot/ssl_client.robot``
...                 (``-v CERT_KIND:ECDSA``, ``-v BOARD:F439``, ``-v FIRMWARE_VARIANT:SW``).
Resource            resources/apps.resource
Suite Setup         Ensure Test PKI
Suite Teardown      Clean Up Lab
Test Teardown       Stop Board And PC Server After Test
Test Tags           client    network    crypto


*** Variables ***
${REFUSED}          the server certificate was refused (192.168.0.1)


*** Test Cases ***
Board Completes Handshake With PC Server And Fetches The Page
    [Tags]    smoke
    Start PC SSL Server With Lab PKI
    Boot SSL Client Board
    ${protocol}    ${suite}=    Client Connection Should Succeed
    ${conn}=    PC SSL Server Should Have Seen Request    GET / HTTP/1.0
    Should Be Equal    ${protocol}    ${conn.protocol}
    Cipher Suite Names Should Agree    ${suite}    ${conn.cipher}
    Should Be Equal As Integers    ${conn.bytes_read}    67
    ...    msg=The board wrote 67 bytes, the PC server read ${conn.bytes_read}    values=False

Board Verifies RSA And ECDSA Server Certificates
    [Template]    Board Should Connect To A Server With Certificate
    # (a TLS 1.3 suite does not name the key exchange: the TLS 1.2 rows show it)
    RSA      TLS-AES-             1.3
    RSA      TLS-ECDHE-RSA-       1.2
    ECDSA    TLS-ECDHE-ECDSA-     1.2

Board Connects Again After Each Period
    Start PC SSL Server With Lab PKI
    Boot SSL Client Board
    FOR    ${number}    IN RANGE    1    4
        Client Connection Should Succeed
    END
    ${connections}=    Get PC SSL Server Connections
    ${done}=    Evaluate    [c for c in $connections if c.request_line == 'GET / HTTP/1.0']
    Should Be True    len($done) >= 3
    ...    msg=Expected 3 requests on the PC server, it saw ${connections}

Board Refuses A Server Certificate It Cannot Trust
    [Tags]    negative
    [Template]    Board Should Refuse The Server Certificate
    expired       The certificate validity has expired
    wrong-host    The certificate Common Name (CN) does not match with the expected CN
    untrusted     The certificate is not correctly signed by the trusted CA

Board Refuses The Server When It Trusts Another CA
    [Tags]    negative
    Start PC SSL Server With Lab PKI
    Boot SSL Client Board    ca=untrusted-ca
    Client Connection Should Fail With    ${HANDSHAKE_FAILED}    ${REFUSED}
    Wait For Line On Uart    ! The certificate is not correctly signed by the trusted CA
    ${connections}=    Get PC SSL Server Connections
    Should Be True    all(c.request_line is None for c in $connections)
    ...    msg=The board sent a request over a refused connection: ${connections}

Board Reports A Server That Is Down And Retries Until It Is Up
    [Tags]    negative
    Boot SSL Client Board
    # QEMU's forward accepts the board's connection and resets it when nobody listens
    # on the PC side: the board sees the reset in the handshake.
    Client Connection Should Fail With    ${HANDSHAKE_FAILED}    NET - Connection was reset by peer
    Start PC SSL Server With Lab PKI
    Client Connection Should Succeed
    PC SSL Server Should Have Seen Request    GET / HTTP/1.0

Board Recovers When The Cable Is Pulled During A Session
    [Tags]    negative
    Start PC SSL Server With Lab PKI
    Boot SSL Client Board
    Client Connection Should Succeed
    Wait For Line On Uart    . Connecting to tcp/192.168.0.1/443... ok    timeout=${TLS_TIMEOUT}
    Set Ethernet Link    down
    # The client task waits for the network without blocking the others: the link task
    # reports the cable at once, and the client's connection fails or completes later.
    Link Should Be Down    timeout=${TLS_TIMEOUT}
    Set Ethernet Link    up
    Link Should Come Back With The Address
    Client Connection Should Succeed


*** Keywords ***
Board Should Connect To A Server With Certificate
    [Documentation]    The PC server presents the ``kind`` certificate and speaks TLS up to
    ...                ``tls_max``; the board completes a connection with a cipher suite
    ...                whose name contains ``key_exchange``.
    [Arguments]    ${kind}    ${key_exchange}    ${tls_max}
    Start PC SSL Server With Lab PKI    ${kind}    tls_max=${tls_max}
    Boot SSL Client Board
    ${protocol}    ${suite}=    Client Connection Should Succeed
    Should Contain    ${suite}    ${key_exchange}
    ...    msg=With the ${kind} server certificate the board negotiated ${suite}, expected ${key_exchange}    values=False
    ${conn}=    PC SSL Server Should Have Seen Request    GET / HTTP/1.0
    Cipher Suite Names Should Agree    ${suite}    ${conn.cipher}
    [Teardown]    Stop Board And PC Server After Step

Board Should Refuse The Server Certificate
    [Documentation]    The PC server presents the lab PKI's ``stem`` certificate; the board
    ...                refuses it with ``reason`` and never sends its request.
    [Arguments]    ${stem}    ${reason}
    ${pki}=    Ensure Test PKI
    Start PC SSL Server    cert=${pki}/${stem}.pem    key=${pki}/${stem}.key.pem
    Boot SSL Client Board
    Client Connection Should Fail With    ${HANDSHAKE_FAILED}    ${REFUSED}
    ${lines}=    Get Uart Lines    20
    Should Contain Match    ${lines}    *! ${reason}*
    ...    msg=The board refused the ${stem} certificate without saying '${reason}'; its last lines: ${lines}
    ${connections}=    Get PC SSL Server Connections
    Should Be True    all(c.request_line is None for c in $connections)
    ...    msg=The board sent a request over a refused connection: ${connections}
    [Teardown]    Stop Board And PC Server After Step

Stop Board And PC Server After Step
    [Documentation]    Keyword teardown: logs on failure, then stop the board and the server.
    Stop Board After Step
    Stop PC SSL Server

Stop Board And PC Server After Test
    [Documentation]    Test teardown: logs on failure, then stop the board and the server.
    Stop Board After Test
    Stop PC SSL Server
