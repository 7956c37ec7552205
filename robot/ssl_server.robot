*** Settings ***
Documentation       The board as HTTPS server (ST's SSL_Server demo, UM1723 5.2): the PC's
...                 HTTPS client, ``openssl s_client`` and ``curl`` fetch its page through the
...                 127.0.0.1 forward of the board's port 443; the page lists the demo's tasks,
...                 counts the hits and names the connection's cipher suite. With client
...                 certificates required the board accepts a client with a lab certificate
...                 and refuses one without.
...
...                 Run from the repository root: ``robot robot/ssl_server.robot``
...                 (``-v CERT_KIND:ECDSA`` for the board's ECDSA certificate).
Resource            resources/apps.resource
Library             Process
Suite Setup         Ensure Test PKI
Suite Teardown      Clean Up Lab
Test Teardown       Stop Board After Test
Test Tags           server    network    crypto


*** Test Cases ***
Board Serves Its Page With The Task List And The Cipher Suite
    [Tags]    smoke
    Boot SSL Server Board
    ${page}=    Fetch Board Page    timeout=${TLS_TIMEOUT}
    Should Be Equal As Integers    ${page.status}    200
    Should Contain    ${page.server_subject}    CN=stm32-board.lab
    Board Page Should Name The Cipher Suite Of    ${page}
    FOR    ${text}    IN    Protocol: ${page.protocol}
    ...    <td>LED</td>    <td>Eth link</td>    <td>SSL server</td>    Page hits: 1
        Should Contain    ${page.text}    ${text}
        ...    msg=The board's page lacks '${text}'; it reads:\n${page.text}    values=False
    END
    Board Should Print In Order
    ...    . Performing the SSL/TLS handshake... ok
    ...    [ Protocol is ${page.protocol} ]
    ...    < Read from client:
    ...    > Write to client: Successfully write

Page Hits Increase With Every Request
    Boot SSL Server Board
    FOR    ${hit}    IN RANGE    1    4
        ${page}=    Fetch Board Page    timeout=${TLS_TIMEOUT}
        Should Contain    ${page.text}    Page hits: ${hit}<
        ...    msg=Request ${hit}: expected 'Page hits: ${hit}' on the page, it reads:\n${page.text}    values=False
    END

Board Names The Cipher Suite Each Client Negotiated
    [Template]    Board Page Should Name The Cipher Suite
    ECDHE-RSA-AES128-GCM-SHA256       RSA
    ECDHE-RSA-AES256-GCM-SHA384       RSA
    DHE-RSA-AES256-SHA256             RSA
    ECDHE-ECDSA-AES128-GCM-SHA256     ECDSA
    ECDHE-ECDSA-AES256-SHA384         ECDSA

Board Accepts A Client With A Lab Certificate When Client Certificates Are Required
    [Template]    Board Should Accept The Client Certificate
    RSA
    ECDSA

Board Refuses A Client Without A Certificate When Client Certificates Are Required
    [Tags]    negative
    Boot SSL Server Board    client_auth=required
    Run Keyword And Expect Error    Expected a page from *, but the fetch failed*
    ...    Fetch Board Page    timeout=${TLS_TIMEOUT}
    Wait For Line On Uart    ${HANDSHAKE_FAILED}    timeout=${TLS_TIMEOUT}
    # the board serves the next client with a certificate
    ${page}=    Fetch Board Page    client_cert=RSA    timeout=${TLS_TIMEOUT}
    Should Be Equal As Integers    ${page.status}    200

OpenSSL s_client Completes A Handshake With The Board
    Boot SSL Server Board
    ${port}=    Get Forwarded Port
    ${pki}=    Ensure Test PKI
    ${result}=    Run Process    openssl    s_client    -connect    127.0.0.1:${port}
    ...    -servername    stm32-board.lab    -verify_hostname    stm32-board.lab
    ...    -CAfile    ${pki}/ca.pem    -verify_return_error    -ign_eof    -quiet    -ignore_unexpected_eof
    ...    stdin=GET / HTTP/1.0\r\n\r\n    timeout=90 s
    Should Be Equal As Integers    ${result.rc}    0
    ...    msg=openssl s_client exited with ${result.rc}: ${result.stderr}    values=False
    Should Contain    ${result.stdout}    HTTP/1.0 200 OK
    Should Contain    ${result.stdout}    Successful connection using:

Curl Fetches The Page From The Board
    Boot SSL Server Board
    ${port}=    Get Forwarded Port
    ${pki}=    Ensure Test PKI
    ${result}=    Run Process    curl    --silent    --show-error    --max-time    60
    ...    --cacert    ${pki}/ca.pem    --resolve    stm32-board.lab:${port}:127.0.0.1
    ...    https://stm32-board.lab:${port}/    timeout=90 s
    Should Be Equal As Integers    ${result.rc}    0
    ...    msg=curl exited with ${result.rc}: ${result.stderr}    values=False
    Should Contain    ${result.stdout}    Successful connection using:
    Should Contain    ${result.stdout}    Page hits: 1


*** Keywords ***
Board Page Should Name The Cipher Suite
    [Documentation]    A client offering only ``cipher`` (OpenSSL name) gets the page of a
    ...                board with its ``kind`` certificate, naming that suite.
    [Arguments]    ${cipher}    ${kind}
    Boot SSL Server Board    cert=${kind}
    ${page}=    Fetch Board Page    ciphers=${cipher}    tls_max=1.2    timeout=${TLS_TIMEOUT}
    Should Be Equal    ${page.cipher_openssl}    ${cipher}
    Board Page Should Name The Cipher Suite Of    ${page}
    [Teardown]    Stop Board After Step

Board Should Accept The Client Certificate
    [Documentation]    With ``client_auth=required`` the board serves a client presenting
    ...                the lab's ``kind`` client certificate.
    [Arguments]    ${kind}
    Boot SSL Server Board    client_auth=required
    ${page}=    Fetch Board Page    client_cert=${kind}    timeout=${TLS_TIMEOUT}
    Should Be Equal As Integers    ${page.status}    200
    Wait For Line On Uart    ${HANDSHAKE_OK}
    [Teardown]    Stop Board After Step
