*** Settings ***
Documentation       The board's ``stm32crypto`` module (the CRYP and HASH peripherals of the
...                 emulated chip) against results computed on the host with hashlib, hmac
...                 and the cryptography package: AES ECB/CBC/CTR, DES and TDES, SHA-1, MD5,
...                 HMAC on both boards; AES-GCM, AES-CCM and SHA-224/256 on the STM32F439
...                 (``-v BOARD:F439``), which the STM32F417 refuses with the documented
...                 message.
...
...                 Run from the repository root: ``robot robot/hwcrypto.robot``
...                 (``-v BOARD:F439`` for the second board).
Resource            resources/crypto.resource
Suite Setup         Boot Board For Crypto
Suite Teardown      Clean Up Lab
Test Teardown       Collect Logs On Failure
Test Tags           crypto


*** Test Cases ***
Board Reports The Crypto Features Of Its Chip
    [Tags]    smoke
    ${have}=    Execute Python Command    print(sorted(k for k in c.features if c.features[k]))
    ${expected}=    Set Variable If    '${BOARD}'.upper() in ('F439', 'STM32F439', 'STM324X9I-EVAL')
    ...    ['aes', 'aes_ccm', 'aes_gcm', 'des', 'hmac', 'md5', 'rng', 'sha1', 'sha224', 'sha256', 'tdes']
    ...    ['aes', 'des', 'hmac', 'md5', 'rng', 'sha1', 'tdes']
    Should Be Equal    ${have}    ${expected}
    ...    msg=stm32crypto.features on the ${BOARD}: expected ${expected}, the board has ${have}    values=False

AES Encryption And Decryption Match The Host
    [Template]    AES Should Match The Host
    FOR    ${mode}    IN    ECB    CBC    CTR
        FOR    ${bits}    IN    128    192    256
            ${mode}    ${bits}    64
        END
    END
    ECB    128    16
    CBC    256    256
    CTR    128    1
    CTR    256    37

DES And TDES Encryption And Decryption Match The Host
    [Template]    DES Should Match The Host
    FOR    ${mode}    IN    ECB    CBC
        FOR    ${key_bytes}    IN    8    16    24
            ${mode}    ${key_bytes}    32
        END
    END
    ECB    8     8
    CBC    24    200

SHA-1 And MD5 Digests Match Hashlib
    [Template]    Digest Should Match The Host
    FOR    ${algorithm}    IN    sha1    md5
        FOR    ${length}    IN    0    3    55    56    64    65    200
            ${algorithm}    ${length}
        END
    END

HMAC-SHA-1 And HMAC-MD5 Match Python's HMAC
    [Template]    HMAC Should Match The Host
    FOR    ${algorithm}    IN    sha1    md5
        FOR    ${key_length}    IN    3    20    64    100
            ${algorithm}    ${key_length}    100
        END
        ${algorithm}    16    0
    END

SHA-224 And SHA-256 Digests And HMACs Match Hashlib On The F439
    [Setup]    Board Should Have F439 Crypto
    FOR    ${algorithm}    IN    sha224    sha256
        FOR    ${length}    IN    0    3    55    56    64    200
            Digest Should Match The Host    ${algorithm}    ${length}
        END
        HMAC Should Match The Host    ${algorithm}    20    100
        HMAC Should Match The Host    ${algorithm}    100    50
    END

AES-GCM Matches The Host And Refuses A Tampered Tag On The F439
    [Setup]    Board Should Have F439 Crypto
    [Template]    AES GCM Should Match The Host
    128    0     16
    128    20    40
    192    16    48
    256    13    1
    256    0     0

mbedTLS AES-GCM Runs On The CRYP And Matches The Host
    [Documentation]    mbedTLS's GCM (what TLS's AES-GCM records use) on the CRYP: on the
    ...                F439 its GCM engine, on the F417 the payload as one AES-CTR run with
    ...                mbedTLS's GHASH. One-shot calls all counted by ``tls.gcm_counts()``
    ...                as hardware; the streaming calls (software GCM) agree.
    Execute Python Command    import tls; before = tls.gcm_counts()
    FOR    ${bits}    IN    128    192    256
        FOR    ${length}    IN    0    1    15    16    17    100
            mbedTLS AES GCM Should Match The Host    ${bits}    13    ${length}
        END
    END
    mbedTLS AES GCM Should Match The Host    128    33    1029    12
    mbedTLS AES GCM Should Match The Host    256    17    100     16    7
    mbedTLS AES GCM Should Match The Host    192    0     37      12    5
    ${counts}=    Execute Python Command    after = tls.gcm_counts(); print(after[0] - before[0], after[1] - before[1])
    # 19 one-shot cases x (encrypt, decrypt, tampered tag); the streaming ones are not counted
    Should Be Equal    ${counts}    57 0
    ...    msg=one-shot GCM calls on the CRYP and in software: expected '57 0', the board counted '${counts}'    values=False

AES-CCM Matches The Host And Refuses A Tampered Tag On The F439
    [Setup]    Board Should Have F439 Crypto
    [Template]    AES CCM Should Match The Host
    128    7     4     16
    128    11    8     32
    192    12    12    5
    256    13    16    40

F417 Refuses The Algorithms Its CRYP And HASH Lack With The Documented Message
    [Tags]    negative
    [Setup]    Skip If    '${BOARD}'.upper() in ('F439', 'STM32F439', 'STM324X9I-EVAL')
    ...    the F439 has GCM, CCM and SHA-224/256 (tested above)
    [Template]    Python Should Raise
    c.sha256()                                                 NotImplementedError: SHA-256 is not available on the STM32F415/417 HASH; use hashlib.sha256 (software)
    c.sha224(b'x')                                             NotImplementedError: SHA-224 is not available on the STM32F415/417 HASH; use software (hashlib)
    c.hmac(b'k', b'm', 'sha256')                               NotImplementedError: HMAC-SHA-224/256 is not available on the STM32F415/417 HASH; use software (hashlib)
    c.aes_gcm_encrypt(bytes(16), bytes(12), b'x')              NotImplementedError: AES-GCM/CCM are not available on the STM32F415/417 CRYP (STM32F437/439 only)
    c.aes_ccm_decrypt(bytes(16), bytes(12), b'x', bytes(16))   NotImplementedError: AES-GCM/CCM are not available on the STM32F415/417 CRYP (STM32F437/439 only)

Bad Keys, IVs And Lengths Are Refused With A Clear Message
    [Tags]    negative
    [Template]    Python Should Raise
    c.AES(bytes(15), c.MODE_ECB)                          ValueError: AES key must be 16, 24 or 32 bytes
    c.AES(bytes(16), c.MODE_CBC)                          ValueError: AES CBC and CTR need a 16-byte IV
    c.AES(bytes(16), c.MODE_CBC, bytes(8))                ValueError: AES IV must be 16 bytes
    c.AES(bytes(16), c.MODE_ECB).encrypt(bytes(17))       ValueError: data length must be a multiple of 16 bytes for AES ECB/CBC
    c.DES(bytes(12), c.MODE_ECB)                          ValueError: DES key must be 8 bytes (DES) or 16 or 24 bytes (TDES)
    c.DES(bytes(24), c.MODE_ECB).encrypt(bytes(9))        ValueError: data length must be a multiple of 8 bytes for DES/TDES
    c.hmac(b'k', b'm', 'sha512')                          ValueError: HMAC algo must be 'sha1', 'md5', 'sha224' or 'sha256'

Random Bytes Come From The RNG And Differ Each Time
    ${first}=    Execute Python Command    p(c.random(16))
    ${second}=    Execute Python Command    p(c.random(16))
    Length Should Be    ${first}    32
    Should Not Be Equal    ${first}    ${second}
    ...    msg=two calls of stm32crypto.random(16) returned the same bytes ${first}    values=False
