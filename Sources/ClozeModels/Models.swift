// Models are built on ClozeTensor.
import ClozeTensor
