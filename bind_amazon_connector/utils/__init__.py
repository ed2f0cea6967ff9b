# Plain Python shared by the flows: no ORM, tested by the plain suite.
