*** Settings ***
Documentation       The board's network tasks (``firmware/apps/demo.py``, ST's UM1723 demo):
...                 static addressing and DHCP both give the board 192.168.0.10 on QEMU's
...                 restricted user-mode network; pulling the cable and plugging it back is
...                 reported on the console and the LEDs as the demo does (LED3 red while
...                 the cable is out, LED2 when the link is back with an address, LED4
...                 blinking all along).
...
...                 Run from the repository root: ``robot robot/network.robot``
Resource            resources/apps.resource
Suite Teardown      Clean Up Lab
Test Teardown       Stop Board After Test
Test Tags           network


*** Test Cases ***
Board Gets Its Address With Static Addressing Or DHCP
    [Template]    Board Should Get Its Address
    off    ${STATIC_ADDRESS}
    on     ${DHCP_ADDRESS}

Board Blinks LED4 And Lights LED2 Once It Has An Address
    [Tags]    smoke
    Boot Demo Board    role=server    cert=${CERT_KIND}
    Wait For Line On Uart    ${STATIC_ADDRESS}
    Wait For LED State    LED2    on
    LED Should Be Off    LED3
    LED Should Be Blinking    LED4    within=2 s    changes=4

Pulling The Cable Lights LED3 And Plugging It Back Restores The Address
    [Template]    Cable Out And Back Should Be Reported
    off    ${STATIC_ADDRESS}
    on     ${DHCP_ADDRESS}

Board Keeps Blinking LED4 While The Cable Is Out
    Boot Demo Board    role=server    cert=${CERT_KIND}
    Wait For Line On Uart    ${STATIC_ADDRESS}
    Set Ethernet Link    down
    Link Should Be Down
    LED Should Be Blinking    LED4    within=2 s    changes=4
    Set Ethernet Link    up
    Link Should Come Back With The Address

Board Answers On Its Address After The Cable Came Back
    Boot SSL Server Board
    Set Ethernet Link    down
    Link Should Be Down
    Set Ethernet Link    up
    Link Should Come Back With The Address
    ${page}=    Fetch Board Page    timeout=${TLS_TIMEOUT}
    Should Be Equal As Integers    ${page.status}    200


*** Keywords ***
Board Should Get Its Address
    [Documentation]    Boots the board with ``dhcp`` on or off and checks the console shows
    ...                how it got 192.168.0.10, and that the LEDs say the link is up.
    [Arguments]    ${dhcp}    ${address_line}
    Boot Demo Board    role=server    cert=${CERT_KIND}    dhcp=${dhcp}
    Wait For Line On Uart    ${CABLE_IN}
    IF    '${dhcp}' == 'on'    Wait For Line On Uart    ${DHCP_LOOKING}
    Wait For Line On Uart    ${address_line}    timeout=${TLS_TIMEOUT}
    Wait For LED State    LED2    on
    LED Should Be Off    LED3
    [Teardown]    Stop Board After Step

Cable Out And Back Should Be Reported
    [Documentation]    Pulls the cable and plugs it back twice; each time the console and
    ...                the LEDs report it as the demo does.
    [Arguments]    ${dhcp}    ${address_line}
    Boot Demo Board    role=server    cert=${CERT_KIND}    dhcp=${dhcp}
    Wait For Line On Uart    ${address_line}    timeout=${TLS_TIMEOUT}
    FOR    ${round}    IN RANGE    2
        Set Ethernet Link    down
        Link Should Be Down
        Set Ethernet Link    up
        Link Should Come Back With The Address    ${address_line}    ${dhcp}
    END
    [Teardown]    Stop Board After Step
