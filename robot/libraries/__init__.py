"""The lab's Robot Framework keyword library; installed as the package stm32lab_robot
(``Library    stm32lab_robot.Stm32Lab``), used from the checkout by path
(``Library    ../libraries/Stm32Lab.py``)."""
