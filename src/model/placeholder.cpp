// Temporary: keeps the model library non-empty until the model code lands.
namespace qat {}
