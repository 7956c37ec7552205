*** Settings ***
Documentation       The Nucleo-F411RE with a W5100 shield as the HTTPS client of the write-up
...                 (``../shared/reference/``, "HTTPS client on STM32 Nucleo-F411RE"): after
...                 "Press any key to continue..." it resolves the server's name through the
...                 lab's DNS resolver, does TLS 1.2 with mbedTLS in software against the CA
...                 in its config sector, through the issuing CA the PC server presents
...                 (``server-chain.pem``), prints the server's certificate as mbedTLS's
...                 ``x509_crt_info`` does and then the page. An unknown name, an untrusted
...                 CA and a server that is down are one line each, and the REPL comes back.
...
...                 The same keywords as the EVAL boards' suites, with ``board=F411``.
...                 Run from the repository root: ``robot robot/nucleo_https_client.robot``
Resource            resources/board.resource
Resource            resources/pc.resource
Suite Setup         Ensure Test PKI
Suite Teardown      Clean Up Lab
Test Teardown       Stop Everything After Test
Test Tags           nucleo    network    client


*** Variables ***
${SERVER}           ssl-server.lab
${TIMEOUT}          120 s


*** Test Cases ***
Nucleo Prints The Server Certificate And The Page
    [Tags]    smoke
    Start Nucleo Lab    ${SERVER}
    Press A Key When Asked
    Wait For Line On Uart    cert. version${SPACE * 5}: 3    timeout=${TIMEOUT}
    Wait For Line On Uart    serial number${SPACE * 5}:
    Wait For Line On Uart    issuer name${SPACE * 7}: O=STM32 TLS Lab (test only), CN=STM32 TLS Lab Issuing CA
    Wait For Line On Uart    subject name${SPACE * 6}: O=STM32 TLS Lab (test only), CN=ssl-server.lab
    Wait For Line On Uart    HTTP/1.0 200 OK    timeout=${TIMEOUT}
    Wait For Line On Uart    Successful connection using: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    Wait For Prompt On Uart
    ${conn}=    PC SSL Server Should Have Seen Request    GET / HTTP/1.0
    Should Be Equal    ${conn.protocol}    TLSv1.2

Nucleo Reports A Name The Resolver Does Not Know
    [Tags]    negative
    Start Nucleo Lab    nowhere.lab
    Press A Key When Asked
    Wait For Line On Uart    getaddrinfo(nowhere.lab) failed: nowhere.lab: not found    timeout=${TIMEOUT}
    Wait For Prompt On Uart

Nucleo Refuses A Server It Cannot Trust
    [Tags]    negative
    Start Nucleo Lab    ${SERVER}    ca=untrusted-ca
    Press A Key When Asked
    Wait For Line On Uart    TLS handshake with ssl-server.lab failed: the server's certificate is not trusted    timeout=${TIMEOUT}
    Wait For Prompt On Uart

Nucleo Reports A Server That Is Down
    [Tags]    negative
    Start Nucleo Lab    ${SERVER}    server=False
    Press A Key When Asked
    Wait For Line On Uart    connect to ssl-server.lab (192.168.0.1:443) failed: W5100: 192.168.0.1:443 did not answer    timeout=${TIMEOUT}
    Wait For Prompt On Uart


*** Keywords ***
Start Nucleo Lab
    [Documentation]    The lab DNS (``ssl-server.lab`` is the PC), the PC SSL server with
    ...                the chain through the issuing CA (unless ``server`` is false), and
    ...                the Nucleo whose config sector names ``name`` and trusts ``ca``.
    [Arguments]    ${name}    ${ca}=ca    ${server}=True
    Start Lab DNS    ssl-server.lab=192.168.0.1
    IF    ${server}
        ${pki}=    Ensure Test PKI
        Start PC SSL Server    cert=${pki}/server-chain.pem    tls_max=1.2
    END
    Create Board    board=F411    server_name=${name}    ca=${ca}    tls_max=1.2
    Create Terminal Tester    console    timeout=60
    Start Emulation

Press A Key When Asked
    Wait For Line On Uart    Press any key to continue...
    Write To Uart    x

Stop Everything After Test
    Stop Board After Test
    Stop PC SSL Server
    Stop Lab DNS
